package io.cfrouter.status;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class TopAppsTest {

    private static final long MINUTE_NANOS = 60_000_000_000L;

    /**
     * Threads that count an application's first request at the same moment share one counter: no request is
     * lost to a counter another thread made at the same time (as a check-then-put in place of
     * {@code computeIfAbsent} would lose them). Each of several threads counts the same thousands of new
     * applications in the same order, so that they race to start many counts; ten rounds, as one round of such a
     * race lost requests in only three of five runs.
     */
    @Test
    void shouldKeepEveryFirstRequestWhenThreadsStartAnApplicationsCountTogether() throws InterruptedException {
        for (int round = 0; round < 10; round++) {
            countTogether(5_000, 4);
        }
    }

    /**
     * With exactly as much room as there are applications, the request that races the admission filling the
     * table is still the application's: it finds the table full, but its application in it. Each round, two
     * threads spinning at a start line count the first request of a table's one application at the same
     * moment; several thousand rounds, as the race is over in a few nanoseconds.
     */
    @Test
    @Timeout(60)
    void shouldCountARequestThatRacesTheAdmissionThatFillsTheTable() throws Exception {
        int threads = 2;
        int rounds = 5_000;
        TopApps[] tables = new TopApps[rounds];
        for (int r = 0; r < rounds; r++) {
            tables[r] = new TopApps(1, 0);
        }
        AtomicInteger arrived = new AtomicInteger();
        List<Thread> started = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread thread = new Thread(() -> {
                for (int r = 0; r < rounds; r++) {
                    // A spinning start: threads woken from a blocking barrier start microseconds apart.
                    arrived.incrementAndGet();
                    for (int spins = 0; arrived.get() < (r + 1) * threads; spins++) {
                        if (spins > 10_000) {
                            Thread.yield(); // fewer cores than threads
                        } else {
                            Thread.onSpinWait();
                        }
                    }
                    tables[r].record("app");
                }
            });
            thread.setDaemon(true); // a spinner left alone by a failed thread must not outlive the timeout
            started.add(thread);
            thread.start();
        }
        for (Thread thread : started) {
            thread.join();
        }
        for (TopApps table : tables) {
            assertThat(table.top(1, 0, MINUTE_NANOS)).extracting(app -> app.get("rpm"))
                    .containsExactly((long) threads);
            assertThat(table.untracked()).isZero();
        }
    }

    private static void countTogether(int apps, int threads) throws InterruptedException {
        // Room to spare: these tests are about starting counts; the full table has a test of its own.
        TopApps top = new TopApps(2 * apps, 0);
        CountDownLatch together = new CountDownLatch(threads);
        List<Thread> started = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread thread = new Thread(() -> {
                together.countDown();
                try {
                    together.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                for (int a = 0; a < apps; a++) {
                    top.record("app-" + a);
                }
            });
            started.add(thread);
            thread.start();
        }
        for (Thread thread : started) {
            thread.join();
        }
        List<Map<String, Object>> counted = top.top(Integer.MAX_VALUE, 0, MINUTE_NANOS);
        assertThat(counted).hasSize(apps);
        assertThat(counted).extracting(app -> app.get("rpm")).containsOnly((long) threads);
        assertThat(top.untracked()).isZero();
    }
}
