package io.cfrouter.status;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;

/** Threads that race, round after round, for tests of what happens when they do the same thing at once. */
final class Racing {

    private Racing() {
    }

    /** What a thread does in a round of {@link #eachRound}: thread numbers from 0, rounds from 0. */
    interface Round {
        void run(int thread, int round);
    }

    /**
     * Runs {@code rounds} rounds on {@code threads} new threads: in each, every thread leaves the start line at
     * the same moment and runs {@code body} once. Fails the test as {@link #onThreads} does.
     */
    static void eachRound(int threads, int rounds, Round body) throws InterruptedException {
        AtomicInteger next = new AtomicInteger();
        onThreads(threads, start -> {
            int thread = next.getAndIncrement();
            for (int r = 0; r < rounds; r++) {
                start.await(r);
                body.run(thread, r);
            }
        });
    }

    /**
     * Runs {@code body} on {@code threads} new threads and waits for them; a thread that throws fails the test
     * with its exception: it breaks the start line, so the others leave it rather than wait for it there.
     */
    static void onThreads(int threads, Consumer<StartLine> body) throws InterruptedException {
        StartLine start = new StartLine(threads);
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        List<Thread> started = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread thread = new Thread(() -> {
                try {
                    body.accept(start);
                } catch (Throwable e) {
                    failures.add(e);
                    start.broken = true;
                }
            });
            thread.setDaemon(true); // whatever happens, none outlives the test's timeout
            started.add(thread);
            thread.start();
        }
        for (Thread thread : started) {
            thread.join();
        }
        assertThat(failures).isEmpty();
    }

    /**
     * A start line the threads spin at, round after round, so that they leave it within nanoseconds of each
     * other (threads woken from a blocking latch or barrier leave it microseconds apart).
     */
    static final class StartLine {
        private final int threads;
        private final AtomicInteger arrived = new AtomicInteger();
        /** A thread failed: it will not come to the line again. */
        volatile boolean broken;

        StartLine(int threads) {
            this.threads = threads;
        }

        /**
         * Waits until every thread has reached round {@code round} (rounds counted from 0, none skipped); throws
         * if a thread failed, which will not come.
         */
        void await(int round) {
            arrived.incrementAndGet();
            for (int spins = 0; arrived.get() < (round + 1) * threads; spins++) {
                if (broken) {
                    throw new IllegalStateException("another thread failed");
                }
                if (spins > 10_000) {
                    Thread.yield(); // fewer cores than threads
                } else {
                    Thread.onSpinWait();
                }
            }
        }
    }
}
