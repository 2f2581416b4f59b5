package io.cfrouter.proxy;

import io.cfrouter.registry.RouteEndpoint;
import io.cfrouter.testsupport.Await;
import io.cfrouter.testsupport.FreePort;
import io.cfrouter.testsupport.HttpExchange;
import io.cfrouter.testsupport.RawSocketServer;
import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.util.WorkerUtils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** §3.1 keep-alive, §3.2 502/503, §3.3 retries, deadlines, failure marks and 499. */
class RetriesIT {

    private ProxyFixture router;

    @BeforeEach
    void start() {
        router = new ProxyFixture(ProxySettings.defaults().withEndpointTimeout(Duration.ofMillis(800)), 0);
    }

    @AfterEach
    void stop() throws Exception {
        router.close();
    }

    private int okBackend() {
        return router.backend(exchange -> exchange.getResponseSender().send("ok"));
    }

    private RouteEndpoint endpoint(String host, int port) {
        return router.registry.lookup(host, "/").endpoints().stream()
                .filter(e -> e.endpoint().port() == port).findFirst().orElseThrow();
    }

    @Test
    void shouldRetryOnAnotherEndpointAndMarkTheRefusingOneFailed() {
        int dead = FreePort.find();
        int live = okBackend();
        router.register("app.example.com", dead);
        router.register("app.example.com", live);
        for (int i = 0; i < 6; i++) {
            HttpExchange.Response r = HttpExchange.send(router.port, ("POST /p" + i
                    + " HTTP/1.1\r\nHost: app.example.com"
                    + "\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello").getBytes(StandardCharsets.ISO_8859_1));
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo("ok");
        }
        assertThat(endpoint("app.example.com", dead).isFailed()).isTrue();
        assertThat(endpoint("app.example.com", live).isFailed()).isFalse();
        assertThat(router.record("/p0").backendAddress()).isEqualTo("127.0.0.1:" + live);
        Await.until(Duration.ofSeconds(5), "every attempt released",
                () -> endpoint("app.example.com", live).inFlight() == 0
                        && endpoint("app.example.com", dead).inFlight() == 0);
    }

    @Test
    void shouldAnswer502WhenEveryAttemptFailsBoundedByMaxAttempts() throws Exception {
        try (ProxyFixture one = new ProxyFixture(ProxySettings.defaults().withMaxAttempts(1), 0)) {
            int[] dead = FreePort.find(2);
            int dead1 = dead[0];
            int dead2 = dead[1];
            one.register("app.example.com", dead1);
            one.register("app.example.com", dead2);
            HttpExchange.Response r = HttpExchange.get(one.port, "app.example.com", "/x");
            assertThat(r.status()).isEqualTo(502);
            assertThat(r.bodyText()).isEqualTo("502 Bad Gateway: Registered endpoint failed to handle the request.\n");
            assertThat(r.header("X-Cf-RouterError")).contains("endpoint_failure");
            assertThat(r.header("X-Vcap-Request-Id")).isPresent();
            long marked = one.registry.lookup("app.example.com", "/").endpoints().stream()
                    .filter(RouteEndpoint::isFailed).count();
            assertThat(marked).as("one attempt, one endpoint marked").isEqualTo(1);
            assertThat(one.record("/x").routerError()).isEqualTo("endpoint_failure");
        }
    }

    @Test
    void shouldAnswer502WhenNoResponseHeadersArriveBeforeTheDeadlineRetriesIncluded() throws Exception {
        List<ServerSocket> silent = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            silent.add(s);
            router.closeLater(s);
            router.register("slow.example.com", s.getLocalPort());
        }
        long start = System.nanoTime();
        HttpExchange.Response r = HttpExchange.get(router.port, "slow.example.com", "/slow");
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(r.status()).isEqualTo(502);
        assertThat(r.header("X-Cf-RouterError")).contains("endpoint_failure");
        assertThat(millis).as("one deadline for all attempts").isBetween(700L, 2_400L);
    }

    @Test
    void shouldNotCutAResponseWhoseHeadersArrivedBeforeTheDeadline() {
        int slowBody = router.backend(exchange -> {
            exchange.getResponseHeaders().put(io.undertow.util.Headers.CONTENT_LENGTH, 6);
            exchange.getResponseSender().send("first-", new io.undertow.io.IoCallback() {
                @Override
                public void onComplete(io.undertow.server.HttpServerExchange ex, io.undertow.io.Sender sender) {
                    WorkerUtils.executeAfter(ex.getIoThread(), () -> ex.getResponseSender().send("second"),
                            1_500, TimeUnit.MILLISECONDS);
                }

                @Override
                public void onException(io.undertow.server.HttpServerExchange ex, io.undertow.io.Sender sender,
                                        IOException exception) {
                }
            });
        });
        router.register("stream.example.com", slowBody);
        HttpExchange.Response r = HttpExchange.get(router.port, "stream.example.com", "/s");
        assertThat(r.status()).isEqualTo(200);
    }

    @Test
    void shouldAnswer503WhenEveryEndpointIsAtItsConnectionLimit() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (ProxyFixture limited = new ProxyFixture(ProxySettings.defaults(), 1)) {
            int held = limited.backend(exchange -> exchange.dispatch(() -> {
                await(release);
                exchange.getResponseSender().send("held");
            }));
            limited.register("busy.example.com", held);
            ScheduledExecutorService pool = Executors.newSingleThreadScheduledExecutor();
            try {
                Future<HttpExchange.Response> first =
                        pool.submit(() -> HttpExchange.get(limited.port, "busy.example.com", "/1"));
                Await.until(Duration.ofSeconds(5), "the first request in flight",
                        () -> limited.registry.lookup("busy.example.com", "/").endpoints().get(0).inFlight() == 1);
                HttpExchange.Response second = HttpExchange.get(limited.port, "busy.example.com", "/2");
                assertThat(second.status()).isEqualTo(503);
                assertThat(second.bodyText()).isEqualTo(
                        "503 Service Unavailable: Requested route ('busy.example.com') "
                                + "has reached the connection limit.\n");
                assertThat(second.header("X-Cf-RouterError")).contains("connection_limit_reached");
                release.countDown();
                assertThat(first.get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
            } finally {
                release.countDown();
                pool.shutdownNow();
            }
        }
    }

    @Test
    void shouldRetryTheKeepAliveRaceOnAFreshConnection() throws Exception {
        try (RacingBackend racing = new RacingBackend()) {
            router.register("race.example.com", racing.port());
            for (int i = 0; i < 10; i++) {
                assertThat(HttpExchange.get(router.port, "race.example.com", "/g" + i).status())
                        .as("GET " + i).isEqualTo(200);
                HttpExchange.Response post = HttpExchange.send(router.port, ("POST /p" + i + " HTTP/1.1\r\n"
                        + "Host: race.example.com\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                        .getBytes(StandardCharsets.ISO_8859_1));
                assertThat(post.status()).as("bodiless POST " + i).isEqualTo(200);
            }
            assertThat(racing.raced).as("requests that met a closing connection").isPositive();
            assertThat(router.registry.lookup("race.example.com", "/").endpoints().get(0).isFailed()).isFalse();
        }
    }

    @Test
    void shouldNeverAnswer502ToGetsSpacedAroundTheBackendsIdleTimeout() throws Exception {
        int idleMillis = 150;
        int backend = router.backend(Undertow.builder().setServerOption(UndertowOptions.IDLE_TIMEOUT, idleMillis)
                .setServerOption(UndertowOptions.NO_REQUEST_TIMEOUT, idleMillis),
                exchange -> exchange.getResponseSender().send("ok"));
        router.register("idle.example.com", backend);
        ScheduledExecutorService pool = Executors.newScheduledThreadPool(2);
        try {
            List<java.util.concurrent.ScheduledFuture<Integer>> statuses = new ArrayList<>();
            for (int i = 0; i < 24; i++) {
                long at = i * (idleMillis + (i % 5) - 2L);
                statuses.add(pool.schedule(() -> HttpExchange.get(router.port, "idle.example.com", "/k").status(),
                        at, TimeUnit.MILLISECONDS));
            }
            for (java.util.concurrent.ScheduledFuture<Integer> s : statuses) {
                assertThat(s.get(20, TimeUnit.SECONDS)).isEqualTo(200);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void shouldLogAClientThatWentAwayAs499WithoutMarkingTheEndpoint() throws Exception {
        router.close();
        router = new ProxyFixture();
        CountDownLatch clientGone = new CountDownLatch(1);
        byte[] big = new byte[8 << 20];
        int backend = router.backend(exchange -> exchange.dispatch(() -> {
            await(clientGone);
            exchange.getResponseSender().send(java.nio.ByteBuffer.wrap(big));
        }));
        router.register("gone.example.com", backend);
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", router.port));
            s.getOutputStream().write("GET /gone HTTP/1.1\r\nHost: gone.example.com\r\n\r\n"
                    .getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            Await.until(Duration.ofSeconds(5), "the request in flight",
                    () -> endpoint("gone.example.com", backend).inFlight() == 1);
            s.setSoLinger(true, 0);
        }
        clientGone.countDown();
        assertThat(router.record("/gone").status()).isEqualTo(499);
        assertThat(endpoint("gone.example.com", backend).isFailed()).isFalse();
        Await.until(Duration.ofSeconds(5), "the endpoint released",
                () -> endpoint("gone.example.com", backend).inFlight() == 0);
    }

    @Test
    void shouldLogAClientThatWentAwayDuringItsUploadAs499() throws Exception {
        router.close();
        router = new ProxyFixture();
        int backend = router.backend(exchange -> exchange.getRequestReceiver().receiveFullBytes(
                (ex, body) -> ex.getResponseSender().send("got " + body.length),
                (ex, e) -> ex.endExchange()));
        router.register("upload.example.com", backend);
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", router.port));
            OutputStream out = s.getOutputStream();
            out.write(("POST /cut HTTP/1.1\r\nHost: upload.example.com\r\nContent-Length: 10000000\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.write(new byte[100_000]);
            out.flush();
            Await.until(Duration.ofSeconds(5), "the upload in flight",
                    () -> endpoint("upload.example.com", backend).inFlight() == 1);
            s.setSoLinger(true, 0);
        }
        assertThat(router.record("/cut").status()).isEqualTo(499);
        assertThat(endpoint("upload.example.com", backend).isFailed()).isFalse();
    }

    @Test
    void shouldDropTheConnectionPoolOfAnEndpointThatLeaves() {
        int live = okBackend();
        router.register("pool.example.com", live);
        assertThat(HttpExchange.get(router.port, "pool.example.com", "/").status()).isEqualTo(200);
        assertThat(router.handler.poolCount()).isEqualTo(1);
        router.registry.unregister(io.cfrouter.core.RouteKey.parse("pool.example.com"), "127.0.0.1:" + live);
        // The forwarder's pools belong to their I/O threads, which drop them when they next run.
        Await.until(Duration.ofSeconds(5), "the pool dropped", () -> router.handler.poolCount() == 0);
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * A backend that answers the first request on each connection and closes the connection when the next one
     * arrives, without a byte of answer: the keep-alive race, every time.
     */
    static final class RacingBackend implements AutoCloseable {
        private final RawSocketServer server = RawSocketServer.start(this::serve);
        volatile int raced;

        int port() {
            return server.port();
        }

        private void serve(Socket s) {
            try (s) {
                InputStream in = s.getInputStream();
                OutputStream out = s.getOutputStream();
                if (RawBackend.readHead(in) == null) {
                    return;
                }
                out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                if (RawBackend.readHead(in) != null) {
                    raced++;
                }
            } catch (IOException e) {
                // gone
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }
}
