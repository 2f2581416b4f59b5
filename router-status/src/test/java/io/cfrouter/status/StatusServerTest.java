package io.cfrouter.status;

import io.cfrouter.core.Endpoint;
import io.cfrouter.core.Health;
import io.cfrouter.core.RouteKey;
import io.cfrouter.registry.RouteRegistry;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class StatusServerTest {

    static final List<String> VARZ_KEYS = List.of("type", "index", "host", "credentials", "uuid", "start",
            "uptime", "num_cores", "mem", "cpu", "requests", "rate", "requests_per_sec", "responses_2xx",
            "responses_3xx", "responses_4xx", "responses_5xx", "responses_xxx", "bad_requests", "bad_gateways",
            "latency", "tags", "urls", "droplets", "top10_app_requests", "ms_since_last_registry_update");

    private final FakeTicker ticker = new FakeTicker();
    private final RouteRegistry registry = RouteRegistry.builder().ticker(ticker).build();

    private StatusServer server(StatusSettings settings) {
        return StatusServer.builder(settings, new Health(), registry)
                .ticker(ticker).index(3).uuid("3-abc").advertisedHost("10.1.2.3")
                .startTime(Instant.parse("2026-01-02T03:04:05Z"))
                .extraVarz(() -> Map.of("nats", Map.of("connected", true, "dropped_messages", 7L)))
                .build();
    }

    @Test
    void shouldHoldEveryKeyOfTheReferenceInVarz() {
        Map<String, Object> varz = server(new StatusSettings("127.0.0.1", 0, "u", "p")).varz();
        assertThat(varz).containsKeys(VARZ_KEYS.toArray(String[]::new)).containsKey("nats");
        assertThat(varz).containsEntry("type", "Router").containsEntry("index", 3)
                .containsEntry("uuid", "3-abc").containsEntry("credentials", List.of("u", "p"))
                .containsEntry("start", "2026-01-02T03:04:05Z")
                .containsEntry("num_cores", Runtime.getRuntime().availableProcessors())
                .containsEntry("nats", Map.of("connected", true, "dropped_messages", 7L));
        assertThat((long) varz.get("mem")).isPositive();
    }

    @Test
    void shouldReportTheRoutingTableAndTheTimeSinceItLastChanged() {
        StatusServer server = server(new StatusSettings("127.0.0.1", 0, "u", "p"));
        ticker.advance(Duration.ofSeconds(4));
        assertThat(server.varz()).containsEntry("urls", 0).containsEntry("droplets", 0)
                .containsEntry("ms_since_last_registry_update", 4000L);

        registry.register(RouteKey.parse("a.example.com"), Endpoint.of("10.0.0.1", 8080));
        registry.register(RouteKey.parse("b.example.com"), Endpoint.of("10.0.0.1", 8080));
        registry.register(RouteKey.parse("b.example.com"), Endpoint.of("10.0.0.2", 8080));
        ticker.advance(Duration.ofMillis(1500));
        assertThat(server.varz()).containsEntry("urls", 2).containsEntry("droplets", 2)
                .containsEntry("ms_since_last_registry_update", 1500L);
    }

    @Test
    void shouldShareGeneratedCredentialsThroughComponentInfo() {
        StatusServer server = server(new StatusSettings("127.0.0.1", 0, "", ""));
        Map<String, Object> info = server.componentInfo();
        assertThat(info).containsOnlyKeys("type", "index", "host", "credentials", "uuid", "start", "uptime");
        assertThat(server.credentials()).hasSize(2).allSatisfy(c -> assertThat(c).matches("[0-9a-f]{24}"));
        assertThat(info).containsEntry("credentials", server.credentials()).containsEntry("host", "10.1.2.3:0");
    }

    @Test
    void shouldCountUptimeOnTheTicker() {
        StatusServer server = server(new StatusSettings("127.0.0.1", 0, "u", "p"));
        ticker.advance(Duration.ofDays(2).plusHours(3).plusMinutes(22).plusSeconds(31));
        assertThat(server.componentInfo()).containsEntry("uptime", "2d:3h:22m:31s");
        assertThat(StatusServer.uptime(0)).isEqualTo("0d:0h:0m:0s");
    }

    @Test
    void shouldMoveTheTrafficFiguresWithRequests() {
        StatusServer server = server(new StatusSettings("127.0.0.1", 0, "u", "p"));
        for (int i = 0; i < 25; i++) {
            server.statistics().onRequest(Records.proxied(200, Duration.ofMillis(5), "app-guid", "web"));
        }
        ticker.advance(Duration.ofSeconds(5));
        Map<String, Object> varz = server.varz();
        assertThat(varz).containsEntry("requests", 25L).containsEntry("responses_2xx", 25L)
                .containsEntry("requests_per_sec", 5.0);
        assertThat(varz.get("top10_app_requests")).asList().singleElement().asString().contains("app-guid");
    }
}
