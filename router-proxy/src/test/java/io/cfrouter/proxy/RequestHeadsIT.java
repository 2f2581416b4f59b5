package io.cfrouter.proxy;

import io.cfrouter.core.RequestRecord;
import io.cfrouter.testsupport.HttpExchange;
import io.undertow.server.HttpServerExchange;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the listener reads from the raw request heads, which Undertow's parser does not keep: a {@code ?}
 * before an empty query, a missing {@code Host}, obs-fold lines; and that it reads nothing else (bodies,
 * pipelined requests).
 */
class RequestHeadsIT {

    private static final String RAW = "raw.example.com";
    private static final String ECHO = "echo.example.com";

    private ProxyFixture router;
    private RawBackend raw;
    /** What the echo backend received: method, URI and body of each request. */
    private final BlockingQueue<String> echoed = new LinkedBlockingQueue<>();

    @BeforeEach
    void start() throws Exception {
        router = new ProxyFixture();
        raw = new RawBackend();
        router.closeLater(raw);
        router.register(RAW, raw.port());
        router.register(ECHO, router.backend(exchange -> exchange.getRequestReceiver().receiveFullBytes(
                (ex, body) -> {
                    String seen = ex.getRequestMethod() + " " + uri(ex) + " " + new String(body, StandardCharsets.ISO_8859_1);
                    echoed.add(seen);
                    ex.getResponseSender().send(seen);
                })));
    }

    private static String uri(HttpServerExchange ex) {
        return ex.getQueryString().isEmpty() ? ex.getRequestURI() : ex.getRequestURI() + "?" + ex.getQueryString();
    }

    @AfterEach
    void stop() throws Exception {
        router.close();
    }

    private String sentHead() throws InterruptedException {
        return raw.nextHead();
    }

    // ---- ? before an empty query ------------------------------------------------------------------------

    @Test
    void shouldForwardEveryQuestionMarkOfTheTarget() throws Exception {
        // Undertow's query string has neither a ? that ends the target nor one that starts the query.
        for (String uri : List.of("/path?", "/?", "/a;p=1?", "//x?", "/x%3F?", "/path??", "/p??q", "/p???", "/??a=1",
                "/p?q?", "/p?a&?b")) {
            HttpExchange.Response response = HttpExchange.get(router.port, RAW, uri);
            assertThat(response.status()).as(uri).isEqualTo(200);
            assertThat(sentHead()).as(uri).startsWith("GET " + uri + " HTTP/1.1\r\n");
        }
        assertThat(router.record("/path?").status()).isEqualTo(200);
        // Without the ?, nothing is added.
        assertThat(HttpExchange.get(router.port, RAW, "/path").status()).isEqualTo(200);
        assertThat(sentHead()).startsWith("GET /path HTTP/1.1\r\n");
    }

    @Test
    void shouldForwardEveryQuestionMarkOnEveryRequestOfAConnection() throws Exception {
        try (Connection c = new Connection()) {
            c.write("GET /one? HTTP/1.1\r\nHost: " + RAW + "\r\n\r\nGET /two??x HTTP/1.1\r\nHost: " + RAW + "\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
            assertThat(c.read().status()).isEqualTo(200);
            c.write("GET /three? HTTP/1.1\r\nHost: " + RAW + "\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
        }
        assertThat(sentHead()).startsWith("GET /one? HTTP/1.1\r\n");
        assertThat(sentHead()).startsWith("GET /two??x HTTP/1.1\r\n");
        assertThat(sentHead()).startsWith("GET /three? HTTP/1.1\r\n");
    }

    @Test
    void shouldRefuseAFragmentInTheRequestTargetAsUndertowDoes() {
        // '#' may not appear in a request target (RFC 9112 §3.2): Undertow's parser answers 400 and closes.
        for (String uri : List.of("/path?#", "/path#frag", "/p?q#")) {
            HttpExchange.Response response = HttpExchange.get(router.port, RAW, uri);
            assertThat(response.status()).as(uri).isEqualTo(400);
        }
        assertThat(raw.heads).isEmpty();
    }

    // ---- no Host ----------------------------------------------------------------------------------------

    @Test
    void shouldAnswerAnHttp11RequestWithoutHostWithTheEmptyHostError() {
        for (String request : List.of("GET / HTTP/1.1\r\n\r\n",
                "GET /no-host HTTP/1.1\r\nConnection: close\r\nX-Host: " + RAW + "\r\nHostname: " + RAW + "\r\n\r\n",
                "OPTIONS * HTTP/1.1\r\n\r\n",
                "POST /no-host-body HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody")) {
            HttpExchange.Response response = HttpExchange.send(router.port, request.getBytes(StandardCharsets.ISO_8859_1));
            assertEmptyHost(response, request);
        }
        assertThat(router.record("/no-host").routerError()).isEqualTo("empty_host");
        assertThat(raw.heads).isEmpty();
    }

    @Test
    void shouldFindTheMissingHostWhenTheHeadArrivesInPieces() throws Exception {
        String head = "GET /in-pieces HTTP/1.1\r\nX-A: 1\r\n\r\n";
        // Sent in two segments, split at every point around the end of the head, where the Host line goes
        // in. Whether the router reads them apart is up to TCP; RequestHeadWatchTest drives the watch with
        // reads cut at every byte, deterministically. This checks the same on real sockets end to end.
        for (int split = head.length() - 6; split < head.length(); split++) {
            try (Connection c = new Connection()) {
                c.write(head.substring(0, split));
                c.write(head.substring(split));
                assertEmptyHost(c.read(), "split at " + split);
            }
        }
        assertThat(raw.heads).isEmpty();
    }

    @Test
    void shouldAnswerAnHttp11RequestWithoutHostBehindAnotherOnItsConnection() throws Exception {
        try (Connection c = new Connection()) {
            c.write("GET /first HTTP/1.1\r\nHost: " + RAW + "\r\n\r\nGET /second HTTP/1.1\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
            assertEmptyHost(c.read(), "pipelined");
            c.write("GET /third HTTP/1.1\r\n\r\n");
            assertEmptyHost(c.read(), "after a pipeline");
            // Behind a chunked body, whose decoder reads ahead and hands the rest back.
            c.write("POST /chunked HTTP/1.1\r\nHost: " + ECHO + "\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "5\r\nhello\r\n0\r\n\r\nGET /after-chunks HTTP/1.1\r\n\r\n");
            assertThat(c.read().bodyText()).isEqualTo("POST /chunked hello");
            assertEmptyHost(c.read(), "after a chunked body");
        }
        assertThat(sentHead()).startsWith("GET /first HTTP/1.1\r\n");
        assertThat(raw.heads).isEmpty();
    }

    @Test
    void shouldLeaveAbsoluteFormWithoutHostToUndertow() {
        // Undertow checks Host against the target's authority in absolute form: its own 400, nothing routed.
        HttpExchange.Response response = HttpExchange.send(router.port,
                ("GET http://" + RAW + "/abs HTTP/1.1\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        assertThat(response.status()).isEqualTo(400);
        assertThat(raw.heads).isEmpty();
    }

    private static void assertEmptyHost(HttpExchange.Response response, String what) {
        assertThat(response.status()).as(what + ": " + response).isEqualTo(400);
        assertThat(response.header("X-Cf-RouterError")).as(what).contains("empty_host");
        assertThat(response.header("X-Content-Type-Options")).as(what).contains("nosniff");
        assertThat(response.header("Content-Type")).as(what).contains("text/plain; charset=utf-8");
        assertThat(response.bodyText()).as(what).isEqualTo("400 Bad Request: Request had empty Host header\n");
    }

    // ---- obs-fold ---------------------------------------------------------------------------------------

    @Test
    void shouldRefuseAFoldedHeaderLineAndCloseTheConnection() throws Exception {
        for (String fold : List.of("\r\n folded", "\r\n\tfolded", "\r\n   ", "\r\n \r\n more")) {
            try (Connection c = new Connection()) {
                c.write("GET /folded HTTP/1.1\r\nHost: " + RAW + "\r\nX-Folded: a" + fold + "\r\n\r\n"
                        + "GET /behind-the-fold HTTP/1.1\r\nHost: " + RAW + "\r\n\r\n");
                HttpExchange.Response response = c.read();
                assertThat(response.status()).as(fold).isEqualTo(400);
                assertThat(response.header("X-Cf-RouterError")).as(fold).contains("malformed_request");
                assertThat(response.bodyText()).as(fold)
                        .isEqualTo("400 Bad Request: Obsolete line folding in the request header section.\n");
                assertThat(c.closed()).as(fold + ": connection closed").isTrue();
            }
        }
        RequestRecord record = router.record("/folded");
        assertThat(record.status()).isEqualTo(400);
        assertThat(record.routerError()).isEqualTo("malformed_request");
        // The router still serves, and the backend saw none of the folded requests or what followed them.
        assertThat(HttpExchange.get(router.port, RAW, "/after").status()).isEqualTo(200);
        assertThat(sentHead()).startsWith("GET /after HTTP/1.1\r\n");
        assertThat(raw.heads).isEmpty();
    }

    @Test
    void shouldPassBodiesThatLookLikeFoldedOrMissingHeaders() throws Exception {
        String body = "line\r\n X-Folded: no\r\n\tagain\r\n\r\nGET /not-a-request HTTP/1.1\r\n\r\n";
        String chunk = "\r\n folded-looking chunk\r\n\r\n";
        try (Connection c = new Connection()) {
            c.write("POST /fixed HTTP/1.1\r\nHost: " + ECHO + "\r\nContent-Length: " + body.length() + "\r\n\r\n" + body
                    + "POST /chunked HTTP/1.1\r\nHost: " + ECHO + "\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + Integer.toHexString(chunk.length()) + "\r\n" + chunk + "\r\n0\r\n\r\n"
                    + "GET /last HTTP/1.1\r\nHost: " + ECHO + "\r\n\r\n");
            assertThat(c.read().bodyText()).isEqualTo("POST /fixed " + body);
            assertThat(c.read().bodyText()).isEqualTo("POST /chunked " + chunk);
            assertThat(c.read().bodyText()).isEqualTo("GET /last ");
            // The body of a request the router answers itself is skipped too.
            c.write("POST /x HTTP/1.1\r\nHost: nowhere.example.com\r\nContent-Length: " + body.length() + "\r\n\r\n"
                    + body + "GET /after-404 HTTP/1.1\r\nHost: " + ECHO + "\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(404);
            assertThat(c.read().bodyText()).isEqualTo("GET /after-404 ");
        }
        assertThat(echoed).containsExactly("POST /fixed " + body, "POST /chunked " + chunk, "GET /last ",
                "GET /after-404 ");
    }

    @Test
    void shouldCheckEachRequestOfAPipelineAndForwardOnlyThoseBeforeAFold() throws Exception {
        String body = "a\r\n b\r\n\r\n";
        try (Connection c = new Connection()) {
            c.write("POST /one HTTP/1.1\r\nHost: " + ECHO + "\r\nContent-Length: " + body.length() + "\r\n\r\n" + body
                    + "GET /two HTTP/1.1\r\nHost: " + ECHO + "\r\n\r\n"
                    + "GET /three HTTP/1.1\r\nHost: " + ECHO + "\r\nX-A: a\r\n b\r\n\r\n"
                    + "GET /four HTTP/1.1\r\nHost: " + ECHO + "\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
            assertThat(c.read().status()).isEqualTo(200);
            assertThat(c.read().status()).isEqualTo(400);
            assertThat(c.closed()).isTrue();
        }
        assertThat(echoed).containsExactly("POST /one " + body, "GET /two ");
    }

    /**
     * The next request arrives while the router waits for the backend's answer to the first (the listener
     * leaves reads on during a request, and suspends them only when a byte comes): both are answered, in order.
     */
    @Test
    void shouldAnswerARequestSentWhileTheOneBeforeWaitsForItsBackend() throws Exception {
        String slow = "slow.example.com";
        BlockingQueue<String> arrived = new LinkedBlockingQueue<>();
        CountDownLatch release = new CountDownLatch(1);
        router.register(slow, router.backend(exchange -> exchange.dispatch(() -> {
            arrived.add(exchange.getRequestURI());
            try {
                if (!release.await(30, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("not released");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            exchange.getResponseSender().send("answer to " + exchange.getRequestURI());
        })));
        try (Connection c = new Connection()) {
            c.write("GET /first HTTP/1.1\r\nHost: " + slow + "\r\n\r\n");
            assertThat(arrived.poll(30, TimeUnit.SECONDS)).isEqualTo("/first");
            c.write("GET /second HTTP/1.1\r\nHost: " + slow + "\r\n\r\n");
            release.countDown();
            assertThat(c.read().bodyText()).isEqualTo("answer to /first");
            assertThat(c.read().bodyText()).isEqualTo("answer to /second");
            // The connection is still good for another request.
            c.write("GET /third HTTP/1.1\r\nHost: " + ECHO + "\r\n\r\n");
            assertThat(c.read().bodyText()).isEqualTo("GET /third ");
        }
        assertThat(arrived).containsExactly("/second");
    }

    /**
     * A body that arrives only after the request's exchange began is read from the connection during the
     * request: the suspend the listener kept back ends with the head, so reads of the body see the client's
     * bytes (not the end of the stream).
     */
    @Test
    void shouldRelayABodySentAfterTheExchangeBegan() throws Exception {
        BlockingQueue<String> begun = new LinkedBlockingQueue<>();
        try (ProxyFixture signalling = new ProxyFixture(ProxySettings.defaults(), 0, next -> exchange -> {
            begun.add(exchange.getRequestURI());
            next.handleRequest(exchange);
        })) {
            signalling.register(ECHO, signalling.backend(exchange -> exchange.getRequestReceiver().receiveFullBytes(
                    (ex, body) -> ex.getResponseSender().send("got " + new String(body, StandardCharsets.ISO_8859_1)))));
            String body = "x".repeat(5000);
            try (Connection c = new Connection(signalling.port)) {
                c.write("POST /up HTTP/1.1\r\nHost: " + ECHO + "\r\nContent-Length: " + body.length() + "\r\n\r\n");
                assertThat(begun.poll(30, TimeUnit.SECONDS)).isEqualTo("/up");
                c.write(body);
                assertThat(c.read().bodyText()).isEqualTo("got " + body);
            }
        }
    }

    /** A head Undertow's parser refuses gets its 400 and the connection closes; what follows is never forwarded. */
    @Test
    void shouldCloseAfterAHeadTheParserRefusesWithoutForwardingWhatFollows() throws Exception {
        try (Connection c = new Connection()) {
            c.write("GET /bad HTTP/1.1\r\nHost: " + ECHO + "\r\nBad\u0001Name: x\r\n\r\n"
                    + "GET /after HTTP/1.1\r\nHost: " + ECHO + "\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(400);
            assertThat(c.closed()).isTrue();
        }
        try (Connection c = new Connection()) {
            c.write("GET /bad HTTP/1.1\r\nHost: " + ECHO + "\r\nBad\u0001Name: x\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(400);
            c.write("GET /late HTTP/1.1\r\nHost: " + ECHO + "\r\n\r\n");
            assertThat(c.closed()).isTrue();
        }
        assertThat(echoed).isEmpty();
    }

    /** A client connection that sends raw bytes and reads responses one by one. */
    private final class Connection implements AutoCloseable {
        private final Socket socket = new Socket();
        private final InputStream in;
        private final OutputStream out;

        Connection() throws IOException {
            this(router.port);
        }

        Connection(int port) throws IOException {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            socket.setSoTimeout(10_000);
            socket.setTcpNoDelay(true);
            in = socket.getInputStream();
            out = socket.getOutputStream();
        }

        void write(String bytes) throws IOException {
            out.write(bytes.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }

        HttpExchange.Response read() throws IOException {
            return HttpExchange.read(in);
        }

        /** Whether the router closed the connection (nothing more to read). */
        boolean closed() throws IOException {
            return in.read() == -1;
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
