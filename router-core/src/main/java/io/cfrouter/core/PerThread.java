package io.cfrouter.core;

import java.util.Objects;
import java.util.function.Supplier;

/**
 * A value per thread, like {@link ThreadLocal}, made for the few threads that ask for it on every request (a
 * server's I/O threads). {@link #get()} reads one slot picked by the calling thread's id and compares its
 * owner: no hash table of the thread's to probe. A {@link ThreadLocal}'s table holds every thread-local
 * value of the thread (the logging's, the server's, the JDK's), so its probes collide and walk on, and
 * under load they miss the cache; the router's profile had 8 % of its user-space samples there, with
 * seven lookups per request.
 *
 * <p>A thread whose slot another live thread holds keeps its value in a {@link ThreadLocal} instead, for
 * good; a slot held by a thread that has ended is taken over. Values of ended threads stay reachable until
 * their slot is taken over (at most {@value #SLOTS} of them): keep values small, or drop them with their
 * owner.
 *
 * <p>Thread-safe. The initial-value supplier runs on the thread that asks, once per thread, and must not
 * return null.
 *
 * @param <T> the value's type
 */
public final class PerThread<T> {

    static final int SLOTS = 64;

    private final Supplier<? extends T> initial;
    /** Read without a lock: a slot's fields are final, so a slot seen is a slot whole. */
    private final Slot<T>[] slots;
    private final ThreadLocal<T> overflow;

    private PerThread(Supplier<? extends T> initial) {
        this.initial = Objects.requireNonNull(initial, "initial");
        @SuppressWarnings("unchecked")
        Slot<T>[] s = new Slot[SLOTS];
        this.slots = s;
        this.overflow = new ThreadLocal<>();
    }

    /** Values made by {@code initial}, one per thread, on first use. */
    public static <T> PerThread<T> withInitial(Supplier<? extends T> initial) {
        return new PerThread<>(initial);
    }

    /** The calling thread's value; made on the thread's first call. */
    public T get() {
        Thread t = Thread.currentThread();
        Slot<T> s = slots[index(t)];
        if (s != null && s.owner == t) {
            return s.value;
        }
        return miss(t);
    }

    private static int index(Thread t) {
        return (int) t.getId() & (SLOTS - 1);
    }

    private T miss(Thread t) {
        T value = overflow.get();
        if (value != null) {
            return value;
        }
        int i = index(t);
        synchronized (slots) {
            Slot<T> s = slots[i];
            if (s != null && s.owner == t) {
                return s.value;
            }
            if (s == null || !s.owner.isAlive()) {
                value = newValue();
                slots[i] = new Slot<>(t, value);
                return value;
            }
        }
        value = newValue();
        overflow.set(value);
        return value;
    }

    private T newValue() {
        return Objects.requireNonNull(initial.get(), "initial value");
    }

    private static final class Slot<T> {
        final Thread owner;
        final T value;

        Slot(Thread owner, T value) {
            this.owner = owner;
            this.value = value;
        }
    }
}
