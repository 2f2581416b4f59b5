package io.cfrouter.status;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

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

    private static void countTogether(int apps, int threads) throws InterruptedException {
        // Room to spare: at the cap, a request that races the last admitted application counts as untracked.
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
