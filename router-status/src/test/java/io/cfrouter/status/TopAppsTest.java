package io.cfrouter.status;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.Map;

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
            Racing.onThreads(threads, start -> {
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
        TopApps[] tables = tablesOfOne(5_000);
        Racing.eachRound(threads, tables.length, (thread, r) -> tables[r].record("app"));
        for (TopApps table : tables) {
            assertThat(table.top(1, 0, MINUTE_NANOS)).extracting(app -> app.get("rpm"))
                    .containsExactly((long) threads);
            assertThat(table.untracked()).isZero();
        }
    }

    /**
     * The cap holds exactly when threads admit different applications at the same moment: of two first
     * requests racing for a table's last place, one is tracked and the other counted as untracked, never both
     * tracked (as a size check before admitting would let them be). Several thousand rounds, as in the test
     * above.
     */
    @Test
    @Timeout(60)
    void shouldTrackNoMoreApplicationsThanTheCapWhenThreadsAdmitDifferentOnesTogether() throws InterruptedException {
        int threads = 2;
        TopApps[] tables = tablesOfOne(5_000);
        Racing.eachRound(threads, tables.length, (thread, r) -> tables[r].record("app-" + thread));
        for (TopApps table : tables) {
            assertThat(table.top(Integer.MAX_VALUE, 0, MINUTE_NANOS)).extracting(app -> app.get("rpm"))
                    .containsExactly(1L);
            assertThat(table.untracked()).isEqualTo(threads - 1);
        }
    }

    /** {@code n} tables with room for one application each: a race's outcome per table. */
    private static TopApps[] tablesOfOne(int n) {
        TopApps[] tables = new TopApps[n];
        for (int i = 0; i < n; i++) {
            tables[i] = new TopApps(1, 0);
        }
        return tables;
    }
}
