package io.cfrouter.app;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.typesafe.config.ConfigFactory;
import io.cfrouter.testsupport.Await;
import io.cfrouter.testsupport.FreePort;
import io.cfrouter.testsupport.HttpExchange;
import io.cfrouter.testsupport.NatsServerProcess;
import io.nats.client.Connection;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.undertow.Undertow;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The status server of the whole router: credentials generated at start-up and learnt over NATS, and
 * real requests through the proxy showing up in /varz.
 */
class StatusVarzIT {

    private static final int REQUESTS = 50;

    private NatsServerProcess nats;
    private Undertow backend;
    private int backendPort;
    private volatile Router router;
    private Connection client;

    @BeforeEach
    void start() throws Exception {
        nats = NatsServerProcess.start();
        backend = Undertow.builder()
                .addHttpListener(0, "127.0.0.1")
                .setHandler(exchange -> {
                    if (exchange.getRequestPath().equals("/missing")) {
                        exchange.setStatusCode(404);
                    }
                    exchange.getResponseSender().send("hello");
                })
                .build();
        backend.start();
        backendPort = ((InetSocketAddress) backend.getListenerInfo().get(0).getAddress()).getPort();
        client = Nats.connect(nats.url());
    }

    private Router router(String startResponseDelay) throws ConfigLoader.InvalidConfigException {
        int[] ports = FreePort.find(2);
        RouterSettings settings = ConfigLoader.bind(ConfigFactory.parseString("""
                host = "127.0.0.1"
                port = %d
                status { port = %d, user = "", pass = "" }
                nats = [{ host = "127.0.0.1", port = %d }]
                start_response_delay_interval = %s
                """.formatted(ports[0], ports[1], nats.port(), startResponseDelay))
                .withFallback(ConfigFactory.defaultReference()).resolve());
        router = new Router(settings);
        return router;
    }

    @AfterEach
    void stop() throws Exception {
        if (client != null) {
            client.close();
        }
        if (router != null) {
            router.close();
        }
        if (backend != null) {
            backend.stop();
        }
        if (nats != null) {
            nats.close();
        }
    }

    @Test
    void shouldAnswerHealthWith503DuringTheStartUpDelay() throws Exception {
        Router starting = router("2s");
        CompletableFuture<Void> started = CompletableFuture.runAsync(() -> {
            try {
                starting.start();
            } catch (Exception e) {
                throw new CompletionException(e);
            }
        });
        int port = starting.statusPort(); // the configured port, announced before it is bound
        int health = Await.value(Duration.ofSeconds(10), "the status server to listen",
                () -> healthStatus(port), status -> status != -1);
        assertThat(started).isNotDone();
        assertThat(health).isEqualTo(503);
        started.get(10, TimeUnit.SECONDS);
        assertThat(HttpExchange.get(starting.statusPort(), "localhost", "/health").status()).isEqualTo(200);
    }

    @Test
    void shouldCountRealRequestsInVarzBehindCredentialsLearntOverNats() throws Exception {
        router("0s").start();
        Message discovered = client.request("vcap.component.discover", new byte[0], Duration.ofSeconds(5));
        assertThat(discovered).as("an answer to vcap.component.discover").isNotNull();
        JsonObject component = JsonParser.parseString(
                new String(discovered.getData(), StandardCharsets.UTF_8)).getAsJsonObject();
        assertThat(component.get("host").getAsString()).endsWith(":" + router.statusPort());
        JsonArray credentials = component.getAsJsonArray("credentials");
        String auth = "Authorization: Basic " + Base64.getEncoder().encodeToString(
                (credentials.get(0).getAsString() + ":" + credentials.get(1).getAsString())
                        .getBytes(StandardCharsets.UTF_8));
        assertThat(HttpExchange.get(router.statusPort(), "localhost", "/varz").status()).isEqualTo(401);
        assertThat(HttpExchange.get(router.statusPort(), "localhost", "/health").status()).isEqualTo(200);

        client.publish("router.register", """
                {"host":"127.0.0.1","port":%d,"uris":["counted.example.com"],"app":"counted-app",
                 "private_instance_id":"instance-1","tags":{"component":"web"}}"""
                .formatted(backendPort).getBytes(StandardCharsets.UTF_8));
        AtomicInteger sent = new AtomicInteger();
        Await.until(Duration.ofSeconds(10), "the route to answer",
                () -> proxyGet(sent, "counted.example.com", "/").status() == 200);
        // A request is counted when Undertow completes the exchange, a moment after the client has the answer.
        JsonObject before = Await.value(Duration.ofSeconds(10), "the first requests to be counted",
                () -> varz(auth), v -> v.get("requests").getAsLong() == sent.get());

        for (int i = 0; i < REQUESTS; i++) {
            proxyGet(sent, "counted.example.com", i % 5 == 0 ? "/missing" : "/ok");
        }
        proxyGet(sent, "nowhere.example.com", "/");

        JsonObject after = Await.value(Duration.ofSeconds(10), "the requests to be counted",
                () -> varz(auth), v -> v.get("requests").getAsLong() == sent.get());
        assertThat(delta(before, after, "requests")).isEqualTo(REQUESTS + 1);
        assertThat(delta(before, after, "responses_2xx")).isEqualTo(REQUESTS * 4 / 5);
        assertThat(delta(before, after, "responses_4xx")).isEqualTo(REQUESTS / 5 + 1);
        assertThat(delta(before, after, "bad_requests")).isEqualTo(1);
        assertThat(after.getAsJsonObject("latency").get("99").getAsDouble()).isPositive();
        JsonObject web = after.getAsJsonObject("tags").getAsJsonObject("component").getAsJsonObject("web");
        assertThat(web.get("requests").getAsLong()).isGreaterThanOrEqualTo(REQUESTS);
        JsonObject top = after.getAsJsonArray("top10_app_requests").get(0).getAsJsonObject();
        assertThat(top.get("application_id").getAsString()).isEqualTo("counted-app");
        assertThat(top.get("rpm").getAsLong()).isGreaterThanOrEqualTo(REQUESTS);
        assertThat(after.get("urls").getAsInt()).isEqualTo(1);
        assertThat(after.get("droplets").getAsInt()).isEqualTo(1);
        assertThat(after.getAsJsonObject("nats").get("connected").getAsBoolean()).isTrue();
        assertThat(after.get("mem").getAsLong()).isPositive();
        assertThat(after.get("credentials")).isEqualTo(credentials);
    }

    /** The status of {@code /health}, or -1 while nothing listens. */
    private static int healthStatus(int port) {
        try {
            return HttpExchange.get(port, "localhost", "/health").status();
        } catch (UncheckedIOException notYet) {
            return -1;
        }
    }

    private HttpExchange.Response proxyGet(AtomicInteger sent, String host, String path) {
        sent.incrementAndGet();
        return HttpExchange.get(router.proxyPort(), host, path);
    }

    private static long delta(JsonObject before, JsonObject after, String key) {
        return after.get(key).getAsLong() - before.get(key).getAsLong();
    }

    private JsonObject varz(String auth) {
        HttpExchange.Response response = HttpExchange.get(router.statusPort(), "localhost", "/varz", auth);
        assertThat(response.status()).isEqualTo(200);
        return JsonParser.parseString(response.bodyText()).getAsJsonObject();
    }
}
