package io.cfrouter.testsupport;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Waiting by polling with a deadline, for tests (never a fixed sleep). */
public final class Await {

    private Await() {
    }

    /** Polls {@code condition} every 10 ms until it holds; fails with {@code what} after {@code timeout}. */
    public static void until(Duration timeout, String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out after " + timeout + " waiting for " + what);
            }
            try {
                TimeUnit.MILLISECONDS.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what, e);
            }
        }
    }

    /** Polls {@code value} until {@code accept} holds for it, and returns it. */
    public static <T> T value(Duration timeout, String what, Supplier<T> value,
                              java.util.function.Predicate<T> accept) {
        Object[] last = new Object[1];
        try {
            until(timeout, what, () -> {
                try {
                    T v = value.get();
                    last[0] = v;
                    return accept.test(v);
                } catch (RuntimeException e) {
                    last[0] = e;
                    return false;
                }
            });
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; last seen: " + last[0], e);
        }
        @SuppressWarnings("unchecked")
        T result = (T) last[0];
        return result;
    }
}
