package io.cfrouter.status;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.cfrouter.core.Endpoint;
import io.cfrouter.core.Health;
import io.cfrouter.core.LoadBalancing;
import io.cfrouter.core.RouteKey;
import io.cfrouter.core.Ticker;
import io.cfrouter.registry.RouteRegistry;
import io.cfrouter.testsupport.HttpExchange;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIOException;

/** The status server on a real socket. */
class StatusServerIT {

    private static final String RIGHT = "Authorization: " + BasicAuthTest.basic("admin:s3cret");

    private final Health health = new Health();
    private final RouteRegistry registry = RouteRegistry.builder()
            .ticker(Ticker.system()).staleThreshold(Duration.ofSeconds(120)).build();
    private StatusServer server;

    @BeforeEach
    void start() throws IOException {
        server = StatusServer.builder(new StatusSettings("127.0.0.1", 0, "admin", "s3cret"), health, registry)
                .extraVarz(() -> Map.of("nats", Map.of("connected", true)))
                .build();
        server.start();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void shouldListenOnAFreePortWhenAskedForPortZero() {
        assertThat(server.port()).isPositive();
        assertThat(server.componentInfo()).containsEntry("host", "127.0.0.1:" + server.port());
    }

    @Test
    void shouldAnswerHealthWith503WhileStartingOrDrainingAnd200WhenHealthy() {
        assertThat(health.state()).isEqualTo(Health.State.STARTING);
        HttpExchange.Response starting = get("/health");
        assertThat(starting.status()).isEqualTo(503);

        health.set(Health.State.HEALTHY);
        HttpExchange.Response healthy = get("/health");
        assertThat(healthy.status()).isEqualTo(200);
        assertThat(healthy.bodyText()).isEqualTo("ok\n");

        health.set(Health.State.DRAINING);
        assertThat(get("/health").status()).isEqualTo(503);
    }

    @Test
    void shouldAlwaysAnswerHealthzWithOk() {
        HttpExchange.Response healthz = get("/healthz");
        assertThat(healthz.status()).isEqualTo(200);
        assertThat(healthz.bodyText()).isEqualTo("ok");
    }

    @Test
    void shouldAnswer404ForAnyOtherPath() {
        assertThat(get("/").status()).isEqualTo(404);
        assertThat(get("/varz/extra", RIGHT).status()).isEqualTo(404);
        assertThat(get("/metrics", RIGHT).status()).isEqualTo(404);
    }

    @Test
    void shouldRefuseVarzAndRoutesWithoutTheRightCredentials() {
        for (String path : new String[] {"/varz", "/routes"}) {
            assertUnauthorized(get(path));
            assertUnauthorized(get(path, "Authorization: " + BasicAuthTest.basic("admin:wrong!")));
            assertUnauthorized(get(path, "Authorization: " + BasicAuthTest.basic("admin:s3cre")));
            assertUnauthorized(get(path, "Authorization: " + BasicAuthTest.basic("admin:s3crets-and-more")));
            assertUnauthorized(get(path, "Authorization: Bearer abc"));
            assertThat(get(path, RIGHT).status()).isEqualTo(200);
        }
    }

    @Test
    void shouldServeVarzWithEveryKeyAndTheTrafficSeen() {
        for (int i = 0; i < 40; i++) {
            server.statistics().onRequest(Records.proxied(i < 30 ? 200 : 503, Duration.ofMillis(3), "app-7", "web"));
        }
        HttpExchange.Response varz = get("/varz", RIGHT);
        assertThat(varz.status()).isEqualTo(200);
        assertThat(varz.header("Content-Type")).contains("application/json");
        JsonObject json = JsonParser.parseString(varz.bodyText()).getAsJsonObject();
        assertThat(json.keySet()).containsAll(StatusServerTest.VARZ_KEYS).contains("nats");
        assertThat(json.get("requests").getAsLong()).isEqualTo(40);
        assertThat(json.get("responses_5xx").getAsLong()).isEqualTo(10);
        assertThat(json.get("latency").getAsJsonObject().get("50").getAsDouble()).isBetween(0.0029, 0.0031);
        assertThat(json.getAsJsonObject("tags").getAsJsonObject("component").getAsJsonObject("web")
                .get("requests").getAsLong()).isEqualTo(40);
        JsonArray top = json.getAsJsonArray("top10_app_requests");
        assertThat(top.get(0).getAsJsonObject().get("application_id").getAsString()).isEqualTo("app-7");
        assertThat(json.get("mem").getAsLong()).isPositive();
    }

    @Test
    void shouldServeTheRoutingTableAsItChanges() {
        assertThat(get("/routes", RIGHT).bodyText()).isEqualTo("{}");

        Endpoint one = new Endpoint("10.0.0.1", 8080, "app-1", "instance-1", "0",
                Map.of("component", "web"), Duration.ZERO, LoadBalancing.ROUND_ROBIN);
        registry.register(RouteKey.parse("a.example.com/path"), one);
        registry.register(RouteKey.parse("a.example.com/path"), Endpoint.of("10.0.0.2", 8080));
        registry.register(RouteKey.parse("b.example.com"), Endpoint.of("10.0.0.3", 9090));

        JsonObject routes = JsonParser.parseString(get("/routes", RIGHT).bodyText()).getAsJsonObject();
        assertThat(routes.keySet()).containsExactlyInAnyOrder("a.example.com/path", "b.example.com");
        JsonArray pool = routes.getAsJsonArray("a.example.com/path");
        assertThat(pool).hasSize(2);
        JsonObject first = pool.get(0).getAsJsonObject();
        assertThat(first.get("address").getAsString()).isEqualTo("10.0.0.1:8080");
        assertThat(first.get("ttl").getAsLong()).isBetween(110L, 120L);
        assertThat(first.getAsJsonObject("tags").get("component").getAsString()).isEqualTo("web");
        assertThat(first.get("private_instance_id").getAsString()).isEqualTo("instance-1");

        registry.unregister(RouteKey.parse("a.example.com/path"), "10.0.0.1:8080");
        registry.unregister(RouteKey.parse("b.example.com"), "10.0.0.3:9090");
        JsonObject after = JsonParser.parseString(get("/routes", RIGHT).bodyText()).getAsJsonObject();
        assertThat(after.keySet()).containsExactly("a.example.com/path");
        assertThat(after.getAsJsonArray("a.example.com/path")).singleElement()
                .satisfies(e -> assertThat(e.getAsJsonObject().get("address").getAsString())
                        .isEqualTo("10.0.0.2:8080"));
    }

    @Test
    void shouldNameTheAddressWhenThePortIsTaken() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            StatusServer clash = StatusServer.builder(
                    new StatusSettings("127.0.0.1", taken.getLocalPort(), "u", "p"), health, registry).build();
            assertThatIOException().isThrownBy(clash::start)
                    .withMessageStartingWith("status.port: cannot listen on 127.0.0.1:" + taken.getLocalPort());
            clash.close();
        }
    }

    private static void assertUnauthorized(HttpExchange.Response response) {
        assertThat(response.status()).isEqualTo(401);
        assertThat(response.header("WWW-Authenticate")).contains("Basic realm=\"cf-router\"");
        assertThat(response.bodyText()).isEqualTo("401 Unauthorized\n");
    }

    private HttpExchange.Response get(String path, String... headers) {
        return HttpExchange.get(server.port(), "localhost", path, headers);
    }
}
