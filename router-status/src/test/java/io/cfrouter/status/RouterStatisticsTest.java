package io.cfrouter.status;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import static io.cfrouter.status.Records.proxied;
import static io.cfrouter.status.Records.refused;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class RouterStatisticsTest {

    private static final Duration TICK = Duration.ofSeconds(RouterStatistics.TICK_SECONDS);

    private final FakeTicker ticker = new FakeTicker();
    private final RouterStatistics stats = new RouterStatistics(ticker);

    @Test
    void shouldReportEveryTrafficKeyBeforeAnyRequest() {
        Map<String, Object> m = stats.snapshot();
        assertThat(m).containsOnlyKeys("requests", "rate", "requests_per_sec", "responses_2xx", "responses_3xx",
                "responses_4xx", "responses_5xx", "responses_xxx", "bad_requests", "bad_gateways", "latency",
                "tags", "top10_app_requests");
        assertThat(m.get("requests")).isEqualTo(0L);
        assertThat(m.get("rate")).isEqualTo(List.of(0.0, 0.0, 0.0));
        assertThat(latency(m)).containsOnlyKeys("50", "75", "90", "95", "99");
        assertThat(m.get("tags")).isEqualTo(Map.of("component", Map.of()));
        assertThat(m.get("top10_app_requests")).isEqualTo(List.of());
    }

    @Test
    void shouldCountResponsesByStatusClass() {
        int[] statuses = {200, 204, 301, 404, 499, 500, 503, 101, 600};
        for (int status : statuses) {
            stats.onRequest(proxied(status, Duration.ofMillis(1), "app", "web"));
        }
        Map<String, Object> m = stats.snapshot();
        assertThat(m).containsEntry("requests", 9L).containsEntry("responses_2xx", 2L)
                .containsEntry("responses_3xx", 1L).containsEntry("responses_4xx", 2L)
                .containsEntry("responses_5xx", 2L).containsEntry("responses_xxx", 2L)
                .containsEntry("bad_requests", 0L).containsEntry("bad_gateways", 0L);
        assertThat(stats.requests()).isEqualTo(9);
    }

    @Test
    void shouldCountRequestsTheRouterRefusedAndGatewaysItCouldNotReach() {
        stats.onRequest(refused(404, "unknown_route"));
        stats.onRequest(refused(400, "empty_host"));
        stats.onRequest(refused(502, "endpoint_failure"));
        stats.onRequest(refused(503, "connection_limit_reached"));
        stats.onRequest(proxied(502, Duration.ofMillis(1), "app", "web")); // the backend's own 502
        stats.onRequest(proxied(404, Duration.ofMillis(1), "app", "web")); // the backend's own 404
        Map<String, Object> m = stats.snapshot();
        assertThat(m).containsEntry("bad_requests", 2L).containsEntry("bad_gateways", 1L)
                .containsEntry("responses_4xx", 3L).containsEntry("responses_5xx", 3L);
    }

    @Test
    void shouldReportLatencyPercentilesInSeconds() {
        for (int ms = 1; ms <= 100; ms++) {
            stats.onRequest(proxied(200, Duration.ofMillis(ms), "app", "web"));
        }
        Map<String, Object> latency = latency(stats.snapshot());
        assertThat((double) latency.get("50")).isCloseTo(0.050, within(0.001));
        assertThat((double) latency.get("75")).isCloseTo(0.075, within(0.001));
        assertThat((double) latency.get("90")).isCloseTo(0.090, within(0.001));
        assertThat((double) latency.get("95")).isCloseTo(0.095, within(0.001));
        assertThat((double) latency.get("99")).isCloseTo(0.099, within(0.001));
    }

    @Test
    void shouldForgetLatenciesOlderThanTwoMinutes() {
        stats.onRequest(proxied(200, Duration.ofSeconds(3), "app", "web"));
        assertThat((double) latency(stats.snapshot()).get("50")).isCloseTo(3.0, within(0.05));

        ticker.advance(Duration.ofSeconds(70));
        stats.onRequest(proxied(200, Duration.ofMillis(10), "app", "web"));
        assertThat((double) latency(stats.snapshot()).get("99")).isCloseTo(3.0, within(0.05));

        ticker.advance(Duration.ofSeconds(60));
        assertThat((double) latency(stats.snapshot()).get("99")).isCloseTo(0.010, within(0.001));

        ticker.advance(Duration.ofSeconds(120));
        assertThat((double) latency(stats.snapshot()).get("99")).isZero();
    }

    @Test
    void shouldReportTheLatenciesSinceThePreviousReadWhenReadsAreFarApart() {
        stats.onRequest(proxied(200, Duration.ofSeconds(9), "app", "web"));
        stats.snapshot();
        ticker.advance(Duration.ofSeconds(50));
        stats.onRequest(proxied(200, Duration.ofMillis(20), "app", "web"));
        ticker.advance(Duration.ofSeconds(100));
        stats.onRequest(proxied(200, Duration.ofMillis(20), "app", "web"));

        Map<String, Object> latency = latency(stats.snapshot());
        assertThat((double) latency.get("99")).isCloseTo(0.020, within(0.001));
        assertThat((double) latency.get("50")).isCloseTo(0.020, within(0.001));
    }

    @Test
    void shouldKeepTheLatenciesOfAThreadThatHasEnded() throws InterruptedException {
        Thread worker = new Thread(() -> stats.onRequest(proxied(200, Duration.ofMillis(700), "app", "web")));
        worker.start();
        worker.join();
        stats.onRequest(proxied(200, Duration.ofMillis(700), "app", "web"));
        assertThat((double) latency(stats.snapshot()).get("50")).isCloseTo(0.7, within(0.01));
        assertThat(stats.snapshot()).containsEntry("requests", 2L);
    }

    @Test
    void shouldMoveTheRatesWithTrafficOverTime() {
        for (int second = 0; second < 600; second++) {
            for (int i = 0; i < 20; i++) {
                stats.onRequest(proxied(200, Duration.ofMillis(1), "app", "web"));
            }
            ticker.advance(Duration.ofSeconds(1));
        }
        Map<String, Object> busy = stats.snapshot();
        // The first interval seeds every average, so a steady rate reads the same in all three.
        assertThat(rates(busy)).allSatisfy(rate -> assertThat(rate).isCloseTo(20.0, within(0.01)));
        assertThat((double) busy.get("requests_per_sec")).isCloseTo(20.0, within(0.01));

        ticker.advance(Duration.ofMinutes(5));
        Map<String, Object> quiet = stats.snapshot();
        assertThat(rates(quiet).get(0)).isLessThan(0.2);
        assertThat(rates(quiet).get(2)).isGreaterThan(rates(quiet).get(1)).isGreaterThan(rates(quiet).get(0));
        assertThat((double) quiet.get("requests_per_sec")).isZero();
    }

    @Test
    void shouldKeepTheSameFiguresPerComponentTag() {
        for (int i = 0; i < 30; i++) {
            stats.onRequest(proxied(200, Duration.ofMillis(2), "a", "api"));
        }
        for (int i = 0; i < 5; i++) {
            stats.onRequest(proxied(500, Duration.ofMillis(40), "b", "uaa"));
        }
        stats.onRequest(proxied(200, Duration.ofMillis(2), "c", "")); // untagged: totals only
        ticker.advance(TICK);

        Map<String, Object> m = stats.snapshot();
        assertThat(m).containsEntry("requests", 36L);
        Map<String, Map<String, Object>> byComponent = components(m);
        assertThat(byComponent).containsOnlyKeys("api", "uaa");
        assertThat(byComponent.get("api")).containsEntry("requests", 30L).containsEntry("responses_2xx", 30L)
                .containsEntry("requests_per_sec", 6.0).containsKeys("rate", "latency", "bad_gateways");
        assertThat(byComponent.get("uaa")).containsEntry("requests", 5L).containsEntry("responses_5xx", 5L);
        assertThat((double) latency(byComponent.get("uaa")).get("50")).isCloseTo(0.040, within(0.001));
    }

    @Test
    void shouldGiveOwnFiguresToNoMoreComponentsThanTheCap() {
        RouterStatistics capped = new RouterStatistics(ticker, 2, 100);
        for (String component : List.of("one", "two", "three", "one")) {
            capped.onRequest(proxied(200, Duration.ofMillis(1), "app", component));
        }
        Map<String, Object> m = capped.snapshot();
        assertThat(m).containsEntry("requests", 4L);
        assertThat(components(m)).containsOnlyKeys("one", "two");
        assertThat(components(m).get("one")).containsEntry("requests", 2L);
    }

    @Test
    void shouldRankTheBusiestApplicationsOfTheLastMinute() {
        for (int app = 1; app <= 12; app++) {
            for (int i = 0; i < app * 6; i++) {
                stats.onRequest(proxied(200, Duration.ofMillis(1), "app-" + app, "web"));
            }
        }
        List<Map<String, Object>> top = top(stats.snapshot());
        assertThat(top).hasSize(10);
        assertThat(top.get(0)).containsEntry("application_id", "app-12").containsEntry("rpm", 72L)
                .containsEntry("rps", 1.2);
        assertThat(top.get(9)).containsEntry("application_id", "app-3").containsEntry("rpm", 18L);
        assertThat(top).extracting(a -> a.get("application_id")).doesNotContain("app-1", "app-2");
    }

    @Test
    void shouldSlideTheTopTenOverTheLastSixtySeconds() {
        for (int i = 0; i < 120; i++) {
            stats.onRequest(proxied(200, Duration.ofMillis(1), "old", "web"));
        }
        ticker.advance(Duration.ofSeconds(60)); // a new minute starts; "old" fades out over it
        for (int i = 0; i < 50; i++) {
            stats.onRequest(proxied(200, Duration.ofMillis(1), "new", "web"));
        }
        ticker.advance(Duration.ofSeconds(30));
        List<Map<String, Object>> top = top(stats.snapshot());
        assertThat(top).extracting(a -> a.get("application_id")).containsExactly("old", "new");
        assertThat(top.get(0)).containsEntry("rpm", 60L);
        assertThat(top.get(1)).containsEntry("rpm", 50L);

        ticker.advance(Duration.ofSeconds(30));
        assertThat(top(stats.snapshot())).extracting(a -> a.get("application_id")).containsExactly("new");
        ticker.advance(Duration.ofSeconds(60));
        assertThat(top(stats.snapshot())).isEmpty();
    }

    @Test
    void shouldTrackNoMoreApplicationsPerMinuteThanTheCap() {
        RouterStatistics capped = new RouterStatistics(ticker, 2, 3);
        for (int app = 1; app <= 5; app++) {
            capped.onRequest(proxied(200, Duration.ofMillis(1), "app-" + app, "web"));
        }
        capped.onRequest(proxied(200, Duration.ofMillis(1), "app-1", "web"));
        assertThat(top(capped.snapshot())).extracting(a -> a.get("application_id"))
                .containsExactly("app-1", "app-2", "app-3");
        assertThat(capped.untrackedAppRequests()).isEqualTo(2);

        ticker.advance(Duration.ofSeconds(60)); // a fresh minute has room for newcomers
        capped.onRequest(proxied(200, Duration.ofMillis(1), "app-5", "web"));
        assertThat(top(capped.snapshot())).extracting(a -> a.get("application_id")).contains("app-5");
    }

    /**
     * Every I/O thread records: an application's requests from several threads at once all count, none lost
     * to a racing update and no thread's left out of the sum (a per-thread design was tried in session 13).
     */
    @Test
    void shouldAddUpAnApplicationsRequestsFromEveryThread() throws InterruptedException {
        CountDownLatch together = new CountDownLatch(3);
        List<Thread> threads = new ArrayList<>();
        for (int t = 1; t <= 3; t++) {
            int busyRequests = 20_000 * t;
            Thread thread = new Thread(() -> {
                together.countDown();
                awaitQuietly(together);
                for (int i = 0; i < busyRequests; i++) {
                    stats.onRequest(proxied(200, Duration.ofMillis(1), "busy", "web"));
                }
                stats.onRequest(proxied(200, Duration.ofMillis(1), "quiet", "web"));
            });
            threads.add(thread);
            thread.start();
        }
        for (int i = 0; i < 50; i++) {
            stats.onRequest(proxied(200, Duration.ofMillis(1), "busy", "web"));
        }
        for (Thread thread : threads) {
            thread.join();
        }
        List<Map<String, Object>> top = top(stats.snapshot());
        assertThat(top).extracting(a -> a.get("application_id")).containsExactly("busy", "quiet");
        assertThat(top.get(0)).containsEntry("rpm", 120_050L);
        assertThat(top.get(1)).containsEntry("rpm", 3L);
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> latency(Map<String, Object> m) {
        return (Map<String, Object>) m.get("latency");
    }

    @SuppressWarnings("unchecked")
    private static List<Double> rates(Map<String, Object> m) {
        return (List<Double>) m.get("rate");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Map<String, Object>> components(Map<String, Object> m) {
        return ((Map<String, Map<String, Map<String, Object>>>) m.get("tags")).get("component");
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> top(Map<String, Object> m) {
        return (List<Map<String, Object>>) m.get("top10_app_requests");
    }
}
