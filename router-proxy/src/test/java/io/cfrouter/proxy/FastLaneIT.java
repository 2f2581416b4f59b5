package io.cfrouter.proxy;

import io.cfrouter.core.RequestRecord;
import io.cfrouter.testsupport.HttpExchange;
import io.cfrouter.testsupport.RawSocketServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The router's own path for plain requests ({@link FastLane}): which requests it takes, how it hands a
 * connection to Undertow in the middle, pipelining, its own answers, the idle timeout, a client that leaves,
 * and a drain. What reaches the backend and the client is the contract's either way: the other proxy ITs
 * run through this path for their plain {@code GET}s, and again without it.
 */
class FastLaneIT {

    private ProxyFixture router;
    private RawBackend backend;

    private void start(Duration idleTimeout) {
        router = new ProxyFixture(ProxySettings.defaults(), 0, h -> h, idleTimeout, ProxyEngine.FORWARDER);
        backend = new RawBackend();
        router.closeLater(backend);
        router.register("app.example.com", backend.port(), "app-guid", "instance-1", "3");
    }

    private void start() {
        start(Duration.ofSeconds(30));
    }

    @AfterEach
    void stop() throws Exception {
        router.close();
    }

    private Socket client() throws IOException {
        Socket s = new Socket("127.0.0.1", router.port);
        s.setSoTimeout(10_000);
        return s;
    }

    private static void write(Socket s, String request) throws IOException {
        s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
        s.getOutputStream().flush();
    }

    private static String get(String path) {
        return "GET " + path + " HTTP/1.1\r\nHost: app.example.com\r\n\r\n";
    }

    /** What a raw backend does with its connection once it has read a request head. */
    private interface AfterHead {
        void on(Socket socket) throws IOException, InterruptedException;
    }

    /** A raw backend for {@code host}: reads one request head, counts {@code requested} down, then {@code then}. */
    private void backend(String host, CountDownLatch requested, AfterHead then) {
        RawSocketServer server = RawSocketServer.start(socket -> {
            try (socket) {
                RawBackend.readHead(socket.getInputStream());
                requested.countDown();
                then.on(socket);
            } catch (IOException | InterruptedException e) {
                // the router or the test closed it
            }
        });
        router.closeLater(server);
        router.register(host, server.port());
    }

    private long own() {
        return router.server.ownRequests();
    }

    @Test
    void shouldServePlainGetsItselfAndHandTheConnectionToUndertowAtTheFirstOtherRequest() throws Exception {
        start();
        try (Socket s = client()) {
            write(s, get("/one"));
            HttpExchange.Response first = HttpExchange.read(s.getInputStream());
            assertThat(first.status()).isEqualTo(200);
            assertThat(own()).as("requests on the own path").isEqualTo(1);

            write(s, "POST /two HTTP/1.1\r\nHost: app.example.com\r\nContent-Length: 0\r\n\r\n");
            assertThat(HttpExchange.read(s.getInputStream()).status()).isEqualTo(200);
            assertThat(backend.nextHead()).startsWith("GET /one HTTP/1.1\r\n");
            assertThat(backend.nextHead()).startsWith("POST /two HTTP/1.1\r\n");

            write(s, get("/three"));
            assertThat(HttpExchange.read(s.getInputStream()).status()).isEqualTo(200);
            assertThat(backend.nextHead()).startsWith("GET /three HTTP/1.1\r\n");
        }
        assertThat(own()).as("the connection stays Undertow's after the POST").isEqualTo(1);
        for (String uri : new String[] {"/one", "/two", "/three"}) {
            assertThat(router.record(uri).status()).as(uri).isEqualTo(200);
        }
    }

    @Test
    void shouldReadOnWhenAHeadComesInPieces() throws Exception {
        start();
        try (Socket s = client()) {
            write(s, "GET /pieces HTTP/1.1\r\nHost: app.exa");
            // A slow client, not a wait for the router: whether the router reads the pieces apart or together,
            // the lane must serve the request (before it read on, pieces went to Undertow: none served here).
            TimeUnit.MILLISECONDS.sleep(100);
            write(s, "mple.com\r\nX-A: 1\r\n");
            TimeUnit.MILLISECONDS.sleep(100);
            write(s, "\r\n");
            HttpExchange.Response r = HttpExchange.read(s.getInputStream());
            assertThat(r.status()).isEqualTo(200);
            assertThat(backend.nextHead()).startsWith("GET /pieces HTTP/1.1\r\nHost: app.example.com\r\nX-A: 1\r\n");
        }
        assertThat(own()).as("requests on the own path").isEqualTo(1);
    }

    @Test
    void shouldAnswerPipelinedRequestsInOrder() throws Exception {
        start();
        try (Socket s = client()) {
            // HEAD last: this backend sends a body even then, which spoils its connection for a next request
            write(s, get("/p1") + get("/p2") + get("/p3") + "HEAD /p4 HTTP/1.1\r\nHost: app.example.com\r\n\r\n");
            InputStream in = s.getInputStream();
            for (String path : new String[] {"/p1", "/p2", "/p3"}) {
                HttpExchange.Response r = HttpExchange.read(in);
                assertThat(r.bodyText()).as(path).startsWith("GET " + path + " HTTP/1.1\r\n");
            }
            assertThat(RawBackend.readHead(in)).as("HEAD: the length kept, no body")
                    .startsWith("HTTP/1.1 200 OK\r\n").containsIgnoringCase("\r\nContent-Length: ");
        }
        assertThat(own()).isEqualTo(4);
    }

    @Test
    void shouldForwardTheClientsHeaderLinesAsSentWithTheRoutersOwnAdded() throws Exception {
        start();
        try (Socket s = client()) {
            write(s, "GET /h?q=1 HTTP/1.1\r\nHost: app.example.com\r\nx-MiXed-Case:  two  spaces\r\n"
                    + "X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: https\r\nX-Vcap-Request-Id: forged\r\n"
                    + "User-Agent: ua/1\r\nReferer: http://r.example/\r\nConnection: keep-alive\r\n\r\n");
            HttpExchange.Response r = HttpExchange.read(s.getInputStream());
            String sent = backend.nextHead();
            assertThat(sent).startsWith("GET /h?q=1 HTTP/1.1\r\nHost: app.example.com\r\n")
                    .contains("\r\nx-MiXed-Case:  two  spaces\r\n")
                    .contains("\r\nX-Forwarded-For: 10.0.0.1, 127.0.0.1\r\n")
                    .contains("\r\nX-Forwarded-Proto: https\r\n")
                    .contains("\r\nX-Vcap-Request-Id: " + r.header("X-Vcap-Request-Id").orElseThrow() + "\r\n")
                    .contains("\r\nX-CF-InstanceID: instance-1\r\nX-CF-ApplicationID: app-guid\r\n"
                            + "X-CF-InstanceIndex: 3\r\n")
                    .containsPattern("\r\nX-Request-Start: \\d{13}\r\n")
                    .doesNotContain("forged").doesNotContainIgnoringCase("\r\nConnection:");
            assertThat(r.header("Date")).isPresent();
            assertThat(r.header("Keep-Alive")).as("hop-by-hop from the backend").isEmpty();
            assertThat(r.header("Connection")).isEmpty();
            RequestRecord record = router.record("/h?q=1");
            assertThat(record.status()).isEqualTo(200);
            assertThat(record.requestId()).isEqualTo(r.header("X-Vcap-Request-Id").orElseThrow());
            assertThat(record.xForwardedFor()).isEqualTo("10.0.0.1, 127.0.0.1");
            assertThat(record.userAgent()).isEqualTo("ua/1");
            assertThat(record.referer()).isEqualTo("http://r.example/");
            assertThat(record.responseBytes()).isEqualTo(r.body().length);
        }
        assertThat(own()).isEqualTo(1);
    }

    @Test
    void shouldHandToUndertowWhatItDoesNotServeAndGetItsAnswer() throws Exception {
        start();
        // The same routes behind a listener without the lane: a wrapped handler turns it off.
        ProxyFixture plain = new ProxyFixture(ProxySettings.defaults(), 0, h -> h::handleRequest, Duration.ofSeconds(30),
                ProxyEngine.FORWARDER);
        router.closeLater(plain);
        for (ProxyFixture f : new ProxyFixture[] {router, plain}) {
            f.register("app.example.com", backend.port());
            f.register("other.example.com", backend.port());
        }
        String[] requests = {
            "GET / HTTP/1.1\r\nHost: nowhere.example.com\r\n\r\n",
            "GET / HTTP/1.0\r\nHost: app.example.com\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: app.example.com\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: app.example.com\r\nUser-Agent: HTTP-Monitor/1.1\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: app.example.com\r\nX-A: a\r\n folded\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: app.example.com\r\nCookie: JSESSIONID=1; __VCAP_ID__=x\r\n\r\n",
            "DELETE / HTTP/1.1\r\nHost: app.example.com\r\n\r\n",
            "GET http://app.example.com/ HTTP/1.1\r\nHost: app.example.com\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: app.example.com\r\nHost: other.example.com\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: \r\n\r\n",
            "GET / HTTP/1.1\r\nX-No-Host: 1\r\n\r\n",
            "GET / HTTP/1.1\nHost: app.example.com\n\n",
            "GET / HTTP/1.1\r\nHost: app.example.com\r\nX-A : 1\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: app.example.com\r\nX-Latin: caf\u00e9\r\n\r\n",
            "GET /a;p=1 HTTP/1.1\r\nHost: app.example.com\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: app.example.com\r\nContent-Length: 0\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: app.example.com\r\nExpect: 100-continue\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: app.example.com\r\nX-Vcap-Trace: x\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: app.example.com\r\nX-CF-InstanceID: forged\r\n\r\n",
        };
        for (String request : requests) {
            byte[] bytes = request.getBytes(StandardCharsets.ISO_8859_1);
            HttpExchange.Response viaLane = HttpExchange.send(router.port, bytes);
            HttpExchange.Response direct = HttpExchange.send(plain.port, bytes);
            assertThat(viaLane.status()).as(request).isEqualTo(direct.status());
            assertThat(viaLane.header("X-Cf-RouterError")).as(request).isEqualTo(direct.header("X-Cf-RouterError"));
        }
        assertThat(own()).as("requests on the own path").isZero();
    }

    @Test
    void shouldAnswer502ItselfAndKeepServingTheConnection() throws Exception {
        start();
        int closed;
        try (RawSocketServer s = RawSocketServer.start(socket -> { })) {
            closed = s.port();
        }
        router.register("dead.example.com", closed);
        try (Socket s = client()) {
            write(s, "GET /dead HTTP/1.1\r\nHost: dead.example.com\r\n\r\n");
            HttpExchange.Response r = HttpExchange.read(s.getInputStream());
            assertThat(r.status()).isEqualTo(502);
            assertThat(r.header("X-Cf-RouterError")).contains("endpoint_failure");
            assertThat(r.header("X-Vcap-Request-Id")).isPresent();
            assertThat(r.header("Date")).isPresent();
            assertThat(r.bodyText()).isEqualTo("502 Bad Gateway: Registered endpoint failed to handle the request.\n");
            write(s, get("/alive"));
            assertThat(HttpExchange.read(s.getInputStream()).status()).isEqualTo(200);
        }
        assertThat(router.record("/dead").status()).isEqualTo(502);
        assertThat(router.record("/dead").routerError()).isEqualTo("endpoint_failure");
        assertThat(router.registry.lookup("dead.example.com", "/").endpoints().get(0).isFailed()).isTrue();
        assertThat(own()).isEqualTo(2);
    }

    @Test
    void shouldCloseTheConnectionAfterAResponseToConnectionClose() throws Exception {
        start();
        try (Socket s = client()) {
            write(s, "GET /bye HTTP/1.1\r\nHost: app.example.com\r\nConnection: close\r\n\r\n");
            HttpExchange.Response r = HttpExchange.read(s.getInputStream());
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("Connection")).contains("close");
            assertThat(s.getInputStream().read()).as("end of stream").isEqualTo(-1);
        }
        assertThat(own()).isEqualTo(1);
    }

    @Test
    void shouldRouteByThePathWhateverTheQueryHolds() throws Exception {
        start();
        RawBackend api = new RawBackend();
        router.closeLater(api);
        router.register("app.example.com/api", api.port());
        try (Socket s = client()) {
            // A malformed escape and the route's path in the query: neither decides the route.
            write(s, get("/api/x?q=%zz&next=/apix"));
            assertThat(HttpExchange.read(s.getInputStream()).status()).isEqualTo(200);
            write(s, get("/apix?next=/api/x"));
            assertThat(HttpExchange.read(s.getInputStream()).status()).isEqualTo(200);
        }
        assertThat(api.nextHead()).startsWith("GET /api/x?q=%zz&next=/apix HTTP/1.1\r\n");
        assertThat(backend.nextHead()).startsWith("GET /apix?next=/api/x HTTP/1.1\r\n");
        assertThat(own()).as("requests on the own path").isEqualTo(2);
    }

    @Test
    void shouldCloseAConnectionIdleForTheIdleTimeout() throws Exception {
        start(Duration.ofMillis(300));
        try (Socket s = client()) {
            write(s, get("/idle"));
            assertThat(HttpExchange.read(s.getInputStream()).status()).isEqualTo(200);
            s.setSoTimeout(10_000);
            try {
                assertThat(s.getInputStream().read()).as("end of stream").isEqualTo(-1);
            } catch (SocketTimeoutException e) {
                throw new AssertionError("the idle connection was not closed within 10 s", e);
            }
        }
        assertThat(own()).isEqualTo(1);
    }

    @Test
    void shouldRecordAClientThatLeavesBeforeTheResponseAs499() throws Exception {
        start();
        CountDownLatch requested = new CountDownLatch(1);
        CountDownLatch backendSawClose = new CountDownLatch(1);
        backend("silent.example.com", requested, socket -> {
            try {
                if (socket.getInputStream().read() < 0) {
                    backendSawClose.countDown();
                }
            } catch (IOException e) {
                backendSawClose.countDown();
            }
        });
        try (Socket s = client()) {
            write(s, "GET /gone HTTP/1.1\r\nHost: silent.example.com\r\n\r\n");
            assertThat(requested.await(10, TimeUnit.SECONDS)).as("request at the backend").isTrue();
        }
        assertThat(router.record("/gone").status()).isEqualTo(499);
        assertThat(backendSawClose.await(10, TimeUnit.SECONDS)).as("backend connection closed").isTrue();
        assertThat(router.registry.lookup("silent.example.com", "/").endpoints().get(0).isFailed())
                .as("not the endpoint's fault").isFalse();
    }

    @Test
    void shouldLeaveNewRequestsToTheListenersHandlerOnceStopped() throws Exception {
        start();
        assertThat(HttpExchange.send(router.port, get("/before").getBytes(StandardCharsets.ISO_8859_1)).status())
                .isEqualTo(200);
        assertThat(own()).isEqualTo(1);
        router.server.stopOwnRequests();
        assertThat(HttpExchange.send(router.port, get("/after").getBytes(StandardCharsets.ISO_8859_1)).status())
                .isEqualTo(200);
        assertThat(own()).isEqualTo(1);
        assertThat(router.server.awaitOwnRequests(1_000)).isTrue();
        assertThat(router.record("/after").status()).isEqualTo(200);
    }

    @Test
    void shouldLetTheDrainWaitForItsRequestsInFlight() throws Exception {
        start();
        CountDownLatch requested = new CountDownLatch(1);
        CountDownLatch answer = new CountDownLatch(1);
        backend("held.example.com", requested, socket -> {
            answer.await();
            socket.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                    .getBytes(StandardCharsets.US_ASCII));
            socket.getInputStream().read();
        });
        try (Socket s = client()) {
            write(s, "GET /held HTTP/1.1\r\nHost: held.example.com\r\n\r\n");
            assertThat(requested.await(10, TimeUnit.SECONDS)).as("request at the backend").isTrue();
            router.server.stopOwnRequests();
            assertThat(router.server.awaitOwnRequests(100)).as("drained with a request in flight").isFalse();
            answer.countDown();
            assertThat(HttpExchange.read(s.getInputStream()).bodyText()).isEqualTo("ok");
            assertThat(router.server.awaitOwnRequests(10_000)).as("drained once it was answered").isTrue();
        }
        assertThat(router.record("/held").status()).isEqualTo(200);
    }
}
