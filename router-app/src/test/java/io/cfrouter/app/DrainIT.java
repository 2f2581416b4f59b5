package io.cfrouter.app;

import io.cfrouter.testsupport.Await;
import io.cfrouter.testsupport.FreePort;
import io.cfrouter.testsupport.HttpExchange;
import io.cfrouter.testsupport.NatsServerProcess;
import io.nats.client.Connection;
import io.nats.client.Nats;
import io.undertow.Undertow;
import io.undertow.server.handlers.BlockingHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Drain (§6): a signal turns /health to 503, stops accepting, lets requests in flight finish, exits 0. */
class DrainIT {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private NatsServerProcess nats;
    private Undertow backend;
    private int backendPort;
    private final CountDownLatch slowArrived = new CountDownLatch(1);
    private final CountDownLatch releaseSlow = new CountDownLatch(1);
    private int proxyPort;
    private int statusPort;

    @BeforeEach
    void start() {
        nats = NatsServerProcess.start();
        backend = Undertow.builder()
                .addHttpListener(0, "127.0.0.1")
                .setHandler(new BlockingHandler(exchange -> {
                    if (exchange.getRequestPath().equals("/slow")) {
                        slowArrived.countDown();
                        if (!releaseSlow.await(60, TimeUnit.SECONDS)) {
                            exchange.setStatusCode(500);
                        }
                        exchange.getResponseSender().send("slow done");
                    } else {
                        exchange.getResponseSender().send("fast");
                    }
                }))
                .build();
        backend.start();
        backendPort = ((InetSocketAddress) backend.getListenerInfo().get(0).getAddress()).getPort();
        int[] ports = FreePort.find(2);
        proxyPort = ports[0];
        statusPort = ports[1];
    }

    @AfterEach
    void stop() {
        releaseSlow.countDown();
        if (backend != null) {
            backend.stop();
        }
        if (nats != null) {
            nats.close();
        }
    }

    /** Starts the jar with the drain settings given, and waits until a route to the backend answers. */
    private RouterProcess startRouter(String drainSettings) throws Exception {
        Path config = Files.writeString(dir.resolve("router.conf"),
                RouterProcess.listeners(proxyPort, statusPort, nats.port())
                        + "start_response_delay_interval = 0\n" + drainSettings + "\n");
        RouterProcess router = RouterProcess.start("--config", config.toString());
        Await.value(TIMEOUT, "/health to answer 200", () -> HttpExchange.get(statusPort, "localhost", "/health"),
                r -> r.status() == 200);
        byte[] register = """
                {"host":"127.0.0.1","port":%d,"uris":["drain.example.com"]}"""
                .formatted(backendPort).getBytes(StandardCharsets.UTF_8);
        try (Connection publisher = Nats.connect(nats.url())) {
            Await.value(TIMEOUT, "the route to answer", () -> {
                publisher.publish("router.register", register);
                return HttpExchange.get(proxyPort, "drain.example.com", "/");
            }, r -> r.status() == 200);
        }
        return router;
    }

    private CompletableFuture<HttpExchange.Response> slowRequest() throws InterruptedException {
        CompletableFuture<HttpExchange.Response> response =
                CompletableFuture.supplyAsync(() -> HttpExchange.get(proxyPort, "drain.example.com", "/slow"));
        assertThat(slowArrived.await(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).as("the slow request reached the backend")
                .isTrue();
        return response;
    }

    private int healthStatus() {
        return HttpExchange.get(statusPort, "localhost", "/health").status();
    }

    @Test
    void shouldFinishASlowRequestInFlightWhenTerminatedThenExit0() throws Exception {
        try (RouterProcess router = startRouter("drain_wait = 0s\ndrain_timeout = 60s")) {
            CompletableFuture<HttpExchange.Response> slow = slowRequest();

            router.signal("TERM");
            Await.until(TIMEOUT, "/health to answer 503", () -> healthStatus() == 503);
            router.awaitOutput("the proxy stops accepting", TIMEOUT);
            Await.until(TIMEOUT, "the proxy to stop accepting connections", () -> {
                try {
                    HttpExchange.get(proxyPort, "drain.example.com", "/");
                    return false;
                } catch (UncheckedIOException refused) {
                    return true;
                }
            });
            assertThat(router.isAlive()).as("still draining while the request is in flight").isTrue();

            releaseSlow.countDown();
            HttpExchange.Response response = slow.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            assertThat(response.status()).isEqualTo(200);
            assertThat(response.bodyText()).isEqualTo("slow done");
            assertThat(router.awaitExit(TIMEOUT)).as(router.output()).isZero();
            assertThat(router.output()).contains("Received SIGTERM", "Drained: requests in flight finished")
                    .endsWith("stopped\n");
        }
    }

    @Test
    void shouldDrainOnSigusr1AndAnswer503DuringDrainWait() throws Exception {
        try (RouterProcess router = startRouter("drain_wait = 3s")) {
            router.signal("USR1");

            Await.until(TIMEOUT, "/health to answer 503", () -> healthStatus() == 503);
            assertThat(HttpExchange.get(proxyPort, "drain.example.com", "/", "User-Agent: HTTP-Monitor/1.1").status())
                    .as("the User-Agent health check answers 503 too").isEqualTo(503);
            assertThat(HttpExchange.get(proxyPort, "drain.example.com", "/").status())
                    .as("requests are still served during drain_wait").isEqualTo(200);

            assertThat(router.awaitExit(TIMEOUT)).as(router.output()).isZero();
            assertThat(router.output()).contains("Received SIGUSR1");
            assertThatThrownBy(this::healthStatus).as("the status server is gone")
                    .isInstanceOf(UncheckedIOException.class);
        }
    }

    @Test
    void shouldCloseRequestsStillInFlightAfterDrainTimeoutAndExit0() throws Exception {
        try (RouterProcess router = startRouter("drain_wait = 0s\ndrain_timeout = 1s")) {
            CompletableFuture<HttpExchange.Response> slow = slowRequest();

            router.signal("TERM");

            assertThat(router.awaitExit(TIMEOUT)).as(router.output()).isZero();
            assertThat(router.output()).contains("drain_timeout (1s) passed with requests still in flight");
            // Cut: the client sees its connection close, or a 502 if the backend side closed first.
            HttpExchange.Response cut = slow.handle((response, failure) -> response)
                    .get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            if (cut != null) {
                assertThat(cut.status()).isEqualTo(502);
            }
        }
    }

    @Test
    void shouldStopAtOnceOnASecondSignal() throws Exception {
        try (RouterProcess router = startRouter("drain_wait = 0s\ndrain_timeout = 60s")) {
            slowRequest();

            router.signal("TERM");
            router.awaitOutput("the proxy stops accepting", TIMEOUT);
            router.signal("TERM");

            assertThat(router.awaitExit(TIMEOUT)).as(router.output()).isEqualTo(1);
            assertThat(router.output()).contains("Received SIGTERM again: stopping at once");
        }
    }

    @Test
    void shouldStopDuringTheStartDelayOnASignal() throws IOException {
        Path config = Files.writeString(dir.resolve("router.conf"),
                RouterProcess.listeners(proxyPort, statusPort, nats.port()) + "start_response_delay_interval = 60s\n");
        try (RouterProcess router = RouterProcess.start("--config", config.toString())) {
            Await.until(TIMEOUT, "/health to answer 503", () -> {
                try {
                    return healthStatus() == 503;
                } catch (UncheckedIOException notYet) {
                    return false;
                }
            });

            router.signal("TERM");

            assertThat(router.awaitExit(TIMEOUT)).as(router.output()).isZero();
            assertThat(router.output()).contains("Stopped during start-up");
        }
    }
}
