package io.cfrouter.proxy;

import io.cfrouter.testsupport.Await;
import io.cfrouter.testsupport.HttpExchange;
import io.cfrouter.testsupport.RawSocketServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The pass-through forwarder against backends on raw sockets: responses it must refuse (502), framings it
 * must relay (chunked in pieces, until close, none), interim responses, {@code Expect: 100-continue},
 * chunked uploads, and when a backend connection may be reused.
 */
class ForwarderIT {

    /** A piece of a backend's answer that closes the connection instead. */
    private static final String CLOSE = "<close>";

    private ProxyFixture router;
    private final BlockingQueue<String> received = new LinkedBlockingQueue<>();
    /** Backend connections closed by the backend. */
    private final AtomicInteger closed = new AtomicInteger();

    @BeforeEach
    void start() {
        router = new ProxyFixture(ProxySettings.defaults().withMaxAttempts(1), 0, h -> h, ProxyEngine.FORWARDER);
    }

    @AfterEach
    void stop() throws Exception {
        router.close();
    }

    /** A backend that answers every request on a connection with {@code answer}, written in the given pieces. */
    private RawSocketServer backend(String host, String... answer) {
        RawSocketServer server = RawSocketServer.start(socket -> serve(socket, answer));
        router.closeLater(server);
        router.register(host, server.port());
        return server;
    }

    private void serve(Socket socket, String... answer) {
        try (socket) {
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            while (true) {
                String head = RawBackend.readHead(in);
                if (head == null) {
                    return;
                }
                received.add(head + body(head, in));
                for (String piece : answer) {
                    if (piece.equals(CLOSE)) {
                        return;
                    }
                    out.write(piece.getBytes(StandardCharsets.ISO_8859_1));
                    out.flush();
                }
                if (String.join("", answer).contains("Connection: close") || answer[0].startsWith("HTTP/1.0")) {
                    return;
                }
            }
        } catch (IOException e) {
            // the router closed it
        } finally {
            closed.incrementAndGet();
        }
    }

    /** The request body as it came on the wire: Content-Length bytes, or the raw chunked framing. */
    private static String body(String head, InputStream in) throws IOException {
        String lower = head.toLowerCase(java.util.Locale.ROOT);
        int cl = lower.indexOf("\r\ncontent-length: ");
        if (cl >= 0) {
            int from = cl + "\r\ncontent-length: ".length();
            int length = Integer.parseInt(lower.substring(from, lower.indexOf('\r', from)).trim());
            return new String(in.readNBytes(length), StandardCharsets.ISO_8859_1);
        }
        if (!lower.contains("\r\ntransfer-encoding: chunked\r\n")) {
            return "";
        }
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        while (!raw.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n0\r\n\r\n")
                && !raw.toString(StandardCharsets.ISO_8859_1).equals("0\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("chunked body cut");
            }
            raw.write(b);
        }
        return raw.toString(StandardCharsets.ISO_8859_1);
    }

    private Socket client() throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", router.port));
        s.setSoTimeout(10_000);
        return s;
    }

    private void assertBadGateway(String host, String path) {
        HttpExchange.Response r = HttpExchange.get(router.port, host, path);
        assertThat(r.status()).as(host).isEqualTo(502);
        assertThat(r.header("X-Cf-RouterError")).as(host).contains("endpoint_failure");
        assertThat(r.bodyText()).as(host).isEqualTo("502 Bad Gateway: Registered endpoint failed to handle the request.\n");
        assertThat(router.record(path).status()).as(host).isEqualTo(502);
        assertThat(router.registry.lookup(host, "/").endpoints().get(0).isFailed()).as(host + " marked").isTrue();
    }

    @Test
    void shouldAnswer502ForResponseHeadsItCannotTrust() {
        backend("garbage.example.com", "HELLO THERE\r\n\r\n");
        backend("fold.example.com", "HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\nContent-Length: 2\r\n\r\nok");
        backend("lengths.example.com", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok");
        backend("gzip.example.com", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nok");
        backend("huge.example.com", "HTTP/1.1 200 OK\r\n" + ("X-Pad: " + "p".repeat(1000) + "\r\n").repeat(1100)
                + "Content-Length: 2\r\n\r\nok");
        backend("cut.example.com", "HTTP/1.1 200 OK\r\nContent-Le", CLOSE);
        backend("switch.example.com", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n");
        for (String host : new String[] {"garbage", "fold", "lengths", "gzip", "huge", "cut", "switch"}) {
            assertBadGateway(host + ".example.com", "/" + host);
        }
    }

    @Test
    void shouldRelayChunkedBodiesArrivingInPieces() throws Exception {
        RawSocketServer backend = backend("chunked.example.com", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n",
                "X-B: 1\r\n\r\n5\r", "\nhello\r\n1", "0;ext\r\n0123456789abcdef\r", "\n0\r\nX-Trailer: t\r\n\r", "\n");
        for (int i = 0; i < 3; i++) {
            HttpExchange.Response r = HttpExchange.get(router.port, "chunked.example.com", "/c" + i);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo("hello0123456789abcdef");
            assertThat(r.header("X-B")).contains("1");
            assertThat(router.record("/c" + i).responseBytes()).isEqualTo(r.body().length);
        }
        assertThat(backend.accepted()).as("one kept-alive backend connection per I/O thread at most").isBetween(1, 2);
    }

    @Test
    void shouldRelayBodiesUntilCloseAndResponsesWithoutBodies() {
        backend("old.example.com", "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n", "until ", "close");
        HttpExchange.Response old = HttpExchange.get(router.port, "old.example.com", "/old");
        assertThat(old.status()).isEqualTo(200);
        assertThat(old.bodyText()).isEqualTo("until close");

        backend("head.example.com", "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n");
        HttpExchange.Response head = HttpExchange.send(router.port, ("HEAD /h HTTP/1.1\r\nHost: head.example.com\r\n"
                + "Connection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        assertThat(head.status()).isEqualTo(200);
        assertThat(head.header("Content-Length")).contains("1234");

        backend("none.example.com", "HTTP/1.1 204 No Content\r\nX-N: 1\r\n\r\n");
        HttpExchange.Response none = HttpExchange.get(router.port, "none.example.com", "/n");
        assertThat(none.status()).isEqualTo(204);
        assertThat(none.header("X-N")).contains("1");
    }

    @Test
    void shouldNotSendABodyOnAPooledConnectionTheBackendClosed() {
        // The backend closes each connection after its answer, without saying so: the router pools it, and
        // must not reuse it for a body it could not send again (one attempt only here: a 502 would show).
        RawSocketServer backend = backend("closer.example.com", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
                CLOSE);
        for (int i = 0; i < 10; i++) {
            int before = closed.get();
            HttpExchange.Response r = HttpExchange.send(router.port, ("POST /b" + i + " HTTP/1.1\r\n"
                    + "Host: closer.example.com\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
                    .getBytes(StandardCharsets.ISO_8859_1));
            assertThat(r.status()).as("POST " + i).isEqualTo(200);
            Await.until(Duration.ofSeconds(5), "the backend closed its connection", () -> closed.get() > before);
        }
        assertThat(backend.accepted()).isEqualTo(10);
    }

    @Test
    void shouldRelayAResponseHeadLargerThanItsBuffer() {
        String pad = "p".repeat(1000);
        backend("big.example.com", "HTTP/1.1 200 OK\r\n" + ("X-Pad: " + pad + "\r\n").repeat(100),
                "Content-Length: 5\r\n\r\nhello");
        for (int i = 0; i < 2; i++) {
            HttpExchange.Response r = HttpExchange.get(router.port, "big.example.com", "/big" + i);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.headers("X-Pad")).hasSize(100).allMatch(pad::equals);
            assertThat(r.bodyText()).isEqualTo("hello");
        }
    }

    @Test
    void shouldSkipInterimResponsesAndAnswerExpectContinueItself() throws Exception {
        backend("expect.example.com", "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n",
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        try (Socket s = client()) {
            OutputStream out = s.getOutputStream();
            out.write(("POST /e HTTP/1.1\r\nHost: expect.example.com\r\nExpect: 100-continue\r\nContent-Length: 5\r\n"
                    + "Connection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            HttpExchange.Response interim = HttpExchange.read(in);
            assertThat(interim.status()).as("the router's own 100 Continue").isEqualTo(100);
            out.write("hello".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            HttpExchange.Response r = HttpExchange.read(in);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo("ok");
            assertThat(r.header("Link")).as("interim headers are not relayed").isEmpty();
        }
        String sent = received.poll(10, TimeUnit.SECONDS);
        assertThat(sent).doesNotContainIgnoringCase("\r\nExpect:").endsWith("\r\n\r\nhello");
    }

    @Test
    void shouldReChunkAChunkedUploadWhereverItsPacketsSplit() throws Exception {
        backend("upload.example.com", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        String head = "POST /u HTTP/1.1\r\nHost: upload.example.com\r\nTransfer-Encoding: chunked\r\n"
                + "Connection: close\r\n\r\n";
        String body = "5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n";
        // Undertow's decoder reads ahead and pushes back what it did not use: every split must pass the
        // strict check once, not twice.
        for (int split = 0; split < body.length(); split++) {
            try (Socket s = client()) {
                OutputStream out = s.getOutputStream();
                out.write((head + body.substring(0, split)).getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                out.write(body.substring(split).getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                HttpExchange.Response r = HttpExchange.read(s.getInputStream());
                assertThat(r.status()).as("split at " + split + ": " + r).isEqualTo(200);
            }
            String sent = received.poll(10, TimeUnit.SECONDS);
            assertThat(sent).contains("\r\nTransfer-Encoding: chunked\r\n");
            assertThat(dechunk(sent.substring(sent.indexOf("\r\n\r\n") + 4))).as("split at " + split)
                    .isEqualTo("hello world");
        }
        assertThat(router.record("/u").requestBytes()).isEqualTo(11);
    }

    private static String dechunk(String raw) {
        StringBuilder data = new StringBuilder();
        int at = 0;
        while (true) {
            int eol = raw.indexOf("\r\n", at);
            int size = Integer.parseInt(raw.substring(at, eol), 16);
            if (size == 0) {
                assertThat(raw.substring(eol)).isEqualTo("\r\n\r\n");
                return data.toString();
            }
            data.append(raw, eol + 2, eol + 2 + size);
            assertThat(raw.substring(eol + 2 + size, eol + 4 + size)).isEqualTo("\r\n");
            at = eol + 4 + size;
        }
    }

    @Test
    void shouldNotReuseAConnectionTheBackendClosesOrOverruns() {
        RawSocketServer closing = backend("closing.example.com", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                + "Connection: close\r\n\r\nok");
        RawSocketServer overrun = backend("overrun.example.com", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA");
        for (int i = 0; i < 3; i++) {
            assertThat(HttpExchange.get(router.port, "closing.example.com", "/k").bodyText()).isEqualTo("ok");
            assertThat(HttpExchange.get(router.port, "overrun.example.com", "/o").bodyText()).isEqualTo("ok");
        }
        assertThat(closing.accepted()).as("Connection: close is honoured").isEqualTo(3);
        assertThat(overrun.accepted()).as("bytes after the response: not reused").isEqualTo(3);
    }
}
