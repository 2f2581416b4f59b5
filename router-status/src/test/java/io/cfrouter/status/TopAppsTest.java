package io.cfrouter.status;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;

class TopAppsTest {

    private static final long MINUTE_NANOS = 60_000_000_000L;

    /**
     * Threads that count an application's first request at the same moment share one counter: no request is
     * lost to a counter another thread made at the same time (as a check-then-put in place of
     * {@code computeIfAbsent} would lose them). Each of several threads counts the same thousands of new
     * applications in the same order, so that they race to start many counts; ten rounds (the mutation caught
     * 5 of 5 runs with ten; one round, threads then leaving a latch, only 3 of 5).
     */
    @Test
    @Timeout(60)
    void shouldKeepEveryFirstRequestWhenThreadsStartAnApplicationsCountTogether() throws InterruptedException {
        int apps = 5_000;
        int threads = 4;
        for (int round = 0; round < 10; round++) {
            // Room to spare: this test is about starting counts; the full table has a test of its own.
            TopApps top = new TopApps(2 * apps, 0);
            onThreads(threads, start -> {
                start.await(0);
                for (int a = 0; a < apps; a++) {
                    top.record("app-" + a);
                }
            });
            List<Map<String, Object>> counted = top.top(Integer.MAX_VALUE, 0, MINUTE_NANOS);
            assertThat(counted).hasSize(apps);
            assertThat(counted).extracting(app -> app.get("rpm")).containsOnly((long) threads);
            assertThat(top.untracked()).isZero();
        }
    }

    /**
     * With exactly as much room as there are applications, the request that races the admission filling the
     * table is still the application's: it finds the table full, but its application in it. Each round, two
     * threads leave the start line together to count the first request of a table's one application;
     * several thousand rounds, as the race is over in a few nanoseconds.
     */
    @Test
    @Timeout(60)
    void shouldCountARequestThatRacesTheAdmissionThatFillsTheTable() throws InterruptedException {
        int threads = 2;
        TopApps[] tables = new TopApps[5_000];
        for (int r = 0; r < tables.length; r++) {
            tables[r] = new TopApps(1, 0);
        }
        onThreads(threads, start -> {
            for (int r = 0; r < tables.length; r++) {
                start.await(r);
                tables[r].record("app");
            }
        });
        for (TopApps table : tables) {
            assertThat(table.top(1, 0, MINUTE_NANOS)).extracting(app -> app.get("rpm"))
                    .containsExactly((long) threads);
            assertThat(table.untracked()).isZero();
        }
    }

    /**
     * Runs {@code body} on {@code threads} new threads and waits for them; a thread that throws fails the test
     * with its exception: it breaks the start line, so the others leave it rather than wait for it there.
     */
    private static void onThreads(int threads, Consumer<StartLine> body) throws InterruptedException {
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
    private static final class StartLine {
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
