package io.cfrouter.app;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import sun.misc.Signal;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Turns SIGTERM, SIGUSR1 and SIGINT into a stop request (§6: drain, then exit 0); a second one runs
 * {@code stopNow}. Replacing the JVM's own handlers means no shutdown hook races the drain.
 *
 * <p>{@code sun.misc.Signal} (module {@code jdk.unsupported}) is the only way Java offers to handle SIGUSR1;
 * handlers run on a short-lived thread of their own, so they only count down and interrupt.
 */
final class StopSignals {

    private static final Logger LOGGER = LogManager.getLogger();
    private static final List<String> SIGNALS = List.of("TERM", "USR1", "INT");

    private final CountDownLatch requested = new CountDownLatch(1);
    private final AtomicInteger received = new AtomicInteger();
    private final Thread starting;
    private final Runnable stopNow;
    private volatile boolean started;

    private StopSignals(Thread starting, Runnable stopNow) {
        this.starting = starting;
        this.stopNow = stopNow;
    }

    /**
     * Installs the handlers.
     *
     * @param starting the thread that starts the router: interrupted by a signal that arrives before
     *                 {@link #started()}
     * @param stopNow what a second signal does
     */
    static StopSignals install(Thread starting, Runnable stopNow) {
        StopSignals signals = new StopSignals(starting, stopNow);
        for (String name : SIGNALS) {
            try {
                Signal.handle(new Signal(name), signals::handle);
            } catch (IllegalArgumentException e) {
                // e.g. SIGUSR1 under -Xrs or a JVM that reserves it: the other signals still drain.
                LOGGER.warn("Cannot handle SIG{} ({}); use SIGTERM to drain", name, e.getMessage());
            }
        }
        return signals;
    }

    private void handle(Signal signal) {
        if (received.incrementAndGet() == 1) {
            LOGGER.info("Received SIG{}: stopping gracefully (send it again to stop at once)", signal.getName());
            requested.countDown();
            if (!started) {
                starting.interrupt();
            }
        } else {
            LOGGER.warn("Received SIG{} again: stopping at once", signal.getName());
            stopNow.run();
        }
    }

    /** The router is up: from now on a signal no longer interrupts the starting thread. */
    void started() {
        started = true;
    }

    /** Whether a stop was asked for. */
    boolean stopRequested() {
        return requested.getCount() == 0;
    }

    /** Waits for the first signal. */
    void await() throws InterruptedException {
        requested.await();
    }
}
