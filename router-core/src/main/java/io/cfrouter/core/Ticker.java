package io.cfrouter.core;

/**
 * A monotonic time source in nanoseconds. Injected wherever time matters so that tests can drive it;
 * only differences between two readings mean anything.
 */
@FunctionalInterface
public interface Ticker {

    /** The current reading, in nanoseconds. */
    long read();

    /** The system's monotonic clock ({@link System#nanoTime()}). */
    static Ticker system() {
        return System::nanoTime;
    }
}
