package io.cfrouter.proxy;

import io.cfrouter.testsupport.Await;
import io.cfrouter.testsupport.FreePort;
import io.cfrouter.testsupport.HttpExchange;
import io.cfrouter.testsupport.RawSocketServer;
import io.undertow.Handlers;
import io.undertow.websockets.core.AbstractReceiveListener;
import io.undertow.websockets.core.BufferedBinaryMessage;
import io.undertow.websockets.core.BufferedTextMessage;
import io.undertow.websockets.core.WebSocketChannel;
import io.undertow.websockets.core.WebSockets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** §3.6: WebSocket through the router, the {@code Upgrade: tcp} tunnel and {@code CONNECT}. */
class UpgradesIT {

    private ProxyFixture router;

    @BeforeEach
    void start() {
        // A short header deadline: upgraded and tunnelled connections must outlive it.
        router = new ProxyFixture(ProxySettings.defaults().withEndpointTimeout(Duration.ofMillis(300)), 0);
    }

    @AfterEach
    void stop() throws Exception {
        router.close();
    }

    private int webSocketEchoBackend() {
        return webSocketEchoBackend(router);
    }

    private static int webSocketEchoBackend(ProxyFixture router) {
        return router.backend(Handlers.websocket((exchange, channel) -> {
            channel.getReceiveSetter().set(new AbstractReceiveListener() {
                @Override
                protected void onFullTextMessage(WebSocketChannel ch, BufferedTextMessage message) {
                    WebSockets.sendText(message.getData(), ch, null);
                }

                @Override
                protected void onFullBinaryMessage(WebSocketChannel ch, BufferedBinaryMessage message) {
                    WebSockets.sendBinary(message.getData().getResource(), ch, null);
                }
            });
            channel.resumeReceives();
        }));
    }

    @Test
    void shouldRelayAWebSocketEchoWith100kBFramesPastTheHeaderDeadline() throws Exception {
        router.register("127.0.0.1", webSocketEchoBackend());
        Echoes echoes = new Echoes();
        WebSocket ws = HttpClient.newHttpClient().newWebSocketBuilder()
                .buildAsync(URI.create("ws://127.0.0.1:" + router.port + "/echo"), echoes).get(10, TimeUnit.SECONDS);
        String text = "x".repeat(100_000);
        byte[] binary = new byte[100_000];
        new Random(7).nextBytes(binary);
        ws.sendText(text, true).get(10, TimeUnit.SECONDS);
        assertThat(echoes.nextText()).isEqualTo(text);
        ws.sendBinary(ByteBuffer.wrap(binary), true).get(10, TimeUnit.SECONDS);
        assertThat(echoes.nextBinary()).isEqualTo(binary);
        ScheduledExecutorService later = Executors.newSingleThreadScheduledExecutor();
        try {
            // Past the 300 ms endpoint_timeout: the upgraded connection is not cut.
            later.schedule(() -> ws.sendText("still here", true), 700, TimeUnit.MILLISECONDS);
            assertThat(echoes.nextText()).isEqualTo("still here");
        } finally {
            later.shutdownNow();
        }
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(10, TimeUnit.SECONDS);
        assertThat(router.record("/echo").status()).isEqualTo(101);
    }

    @Test
    void shouldRecordTheBytesOfAWebSocketBothWaysWhenItCloses() throws Exception {
        router.register("ws.example.com", webSocketEchoBackend());
        byte[] text = new byte[100_000];
        Arrays.fill(text, (byte) 'y');
        byte[] message = WebSocketFrames.masked(0x1, text);
        byte[] close = WebSocketFrames.masked(0x8, new byte[] {0x03, (byte) 0xE8}); // 1000: normal closure
        long received = 0;
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", router.port));
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(("GET /ws-count HTTP/1.1\r\nHost: ws.example.com\r\nConnection: Upgrade\r\n"
                    + "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            assertThat(RawBackend.readHead(in)).startsWith("HTTP/1.1 101 ");
            out.write(message);
            out.flush();
            // The echo: an unmasked frame with a 64-bit length.
            byte[] echo = in.readNBytes(2 + 8 + text.length);
            assertThat(Arrays.copyOfRange(echo, 10, echo.length)).isEqualTo(text);
            received += echo.length;
            out.write(close);
            out.flush();
            // The backend answers the close and closes; the router closes the client's connection after it.
            received += in.readAllBytes().length;
        }
        io.cfrouter.core.RequestRecord record = router.record("/ws-count");
        assertThat(record.status()).isEqualTo(101);
        assertThat(record.requestBytes()).isEqualTo(message.length + close.length);
        assertThat(record.responseBytes()).isEqualTo(received).isGreaterThan(text.length);
    }

    @Test
    void shouldCloseIdleUpgradedAndTunnelledConnectionsAfterTheFrontendIdleTimeout() throws Exception {
        Duration idleTimeout = Duration.ofSeconds(2);
        try (ProxyFixture idle = new ProxyFixture(ProxySettings.defaults(), 0, h -> h, idleTimeout);
             EchoBackend echo = new EchoBackend()) {
            idle.register("ws.example.com", webSocketEchoBackend(idle));
            idle.register("tcp.example.com", echo.port());
            idle.register("tunnel.example.com", echo.port());
            try (Socket ws = openWebSocket(idle.port, "/idle-ws")) {
                assertClosedAfterIdling(ws, idleTimeout, System.nanoTime());
            }
            try (Socket tcp = connect(idle.port, "GET /idle-tcp HTTP/1.1\r\nHost: tcp.example.com\r\n"
                    + "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\nhi")) {
                assertThat(new String(tcp.getInputStream().readNBytes(2), StandardCharsets.ISO_8859_1)).isEqualTo("hi");
                assertClosedAfterIdling(tcp, idleTimeout, System.nanoTime());
            }
            try (Socket tunnel = connect(idle.port,
                    "CONNECT tunnel.example.com:443 HTTP/1.1\r\nHost: tunnel.example.com:443\r\n\r\n")) {
                assertThat(RawBackend.readHead(tunnel.getInputStream())).startsWith("HTTP/1.1 200 ");
                assertClosedAfterIdling(tunnel, idleTimeout, System.nanoTime());
            }
            // Each is logged once it closes.
            assertThat(idle.record("/idle-ws").status()).isEqualTo(101);
            assertThat(idle.record("/idle-tcp").status()).isEqualTo(101);
            assertThat(idle.record("tunnel.example.com:443").status()).isEqualTo(200);
        }
    }

    @Test
    void shouldKeepABusyWebSocketOpenPastTheFrontendIdleTimeout() throws Exception {
        Duration idleTimeout = Duration.ofSeconds(2);
        try (ProxyFixture idle = new ProxyFixture(ProxySettings.defaults(), 0, h -> h, idleTimeout)) {
            idle.register("ws.example.com", webSocketEchoBackend(idle));
            try (Socket ws = openWebSocket(idle.port, "/busy-ws")) {
                byte[] ping = "ping".getBytes(StandardCharsets.ISO_8859_1);
                long end = System.nanoTime() + 2 * idleTimeout.toNanos() + TimeUnit.SECONDS.toNanos(1);
                long lastTraffic = System.nanoTime();
                for (int messages = 0; lastTraffic < end; messages++) {
                    TimeUnit.MILLISECONDS.sleep(200); // pacing: a message every 200 ms keeps it busy
                    ws.getOutputStream().write(WebSocketFrames.masked(0x1, ping));
                    ws.getOutputStream().flush();
                    byte[] echo = ws.getInputStream().readNBytes(2 + ping.length);
                    assertThat(echo).as("echo %d", messages).hasSize(2 + ping.length);
                    lastTraffic = System.nanoTime();
                }
                assertClosedAfterIdling(ws, idleTimeout, lastTraffic);
            }
        }
    }

    /** Connects to the router and sends {@code request}; reads time out after 15 s. */
    private static Socket connect(int port, String request) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port));
        s.setSoTimeout(15_000);
        s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
        s.getOutputStream().flush();
        return s;
    }

    /** A WebSocket to ws.example.com through the router, after its 101. */
    private static Socket openWebSocket(int port, String path) throws IOException {
        Socket s = connect(port, "GET " + path + " HTTP/1.1\r\nHost: ws.example.com\r\nConnection: Upgrade\r\n"
                + "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
        assertThat(RawBackend.readHead(s.getInputStream())).startsWith("HTTP/1.1 101 ");
        return s;
    }

    /**
     * Sends nothing more and expects the router to close the connection, not before the idle timeout has
     * passed since {@code lastTraffic} ({@link System#nanoTime()} of the last bytes through it).
     */
    private static void assertClosedAfterIdling(Socket s, Duration idleTimeout, long lastTraffic) throws IOException {
        InputStream in = s.getInputStream();
        while (in.read() >= 0) {
            // a WebSocket backend may say goodbye first
        }
        long idled = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastTraffic);
        assertThat(idled).as("ms until the router closed the idle connection")
                .isGreaterThanOrEqualTo(idleTimeout.toMillis() - 100);
    }

    @Test
    void shouldAnswer502WhenTheUpgradeBackendRefuses() {
        router.register("ws.example.com", FreePort.find());
        HttpExchange.Response r = HttpExchange.get(router.port, "ws.example.com", "/ws", "Connection: Upgrade",
                "Upgrade: websocket", "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==");
        assertThat(r.status()).isEqualTo(502);
        assertThat(r.header("X-Cf-RouterError")).contains("endpoint_failure");
    }

    @Test
    void shouldTunnelUpgradeTcpWithoutForwardingTheRequestHeadOrAnswering101() throws Exception {
        try (EchoBackend echo = new EchoBackend()) {
            router.register("tcp.example.com", echo.port());
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", router.port));
                s.setSoTimeout(10_000);
                OutputStream out = s.getOutputStream();
                out.write(("GET /anything HTTP/1.1\r\nHost: tcp.example.com\r\nConnection: keep-alive, Upgrade\r\n"
                        + "Upgrade: tcp\r\n\r\nhello").getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                assertThat(new String(s.getInputStream().readNBytes(5), StandardCharsets.ISO_8859_1))
                        .isEqualTo("hello");
                ScheduledExecutorService later = Executors.newSingleThreadScheduledExecutor();
                try {
                    // Past the 300 ms endpoint_timeout: the tunnel is not cut.
                    later.schedule(() -> {
                        out.write("after the deadline".getBytes(StandardCharsets.ISO_8859_1));
                        out.flush();
                        return null;
                    }, 700, TimeUnit.MILLISECONDS).get(10, TimeUnit.SECONDS);
                } finally {
                    later.shutdownNow();
                }
                assertThat(new String(s.getInputStream().readNBytes(18), StandardCharsets.ISO_8859_1))
                        .isEqualTo("after the deadline");
            }
            assertThat(echo.firstBytes()).isEqualTo("hello");
            io.cfrouter.core.RequestRecord record = router.record("/anything");
            assertThat(record.status()).isEqualTo(101);
            assertThat(record.requestBytes()).isEqualTo(5 + 18);
            assertThat(record.responseBytes()).isEqualTo(5 + 18);
        }
    }

    @Test
    void shouldAnswer502WhenNoTcpEndpointAccepts() {
        for (int dead : FreePort.find(2)) {
            router.register("tcp.example.com", dead);
        }
        HttpExchange.Response r = HttpExchange.get(router.port, "tcp.example.com", "/", "Connection: Upgrade",
                "Upgrade: tcp");
        assertThat(r.status()).isEqualTo(502);
    }

    @Test
    void shouldTunnelConnectToARegisteredRouteOnly() throws Exception {
        try (EchoBackend echo = new EchoBackend()) {
            router.register("tunnel.example.com", echo.port());
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", router.port));
                s.setSoTimeout(10_000);
                OutputStream out = s.getOutputStream();
                out.write("CONNECT tunnel.example.com:443 HTTP/1.1\r\nHost: tunnel.example.com:443\r\n\r\nping"
                        .getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                InputStream in = s.getInputStream();
                assertThat(RawBackend.readHead(in)).isEqualTo("HTTP/1.1 200 Connection Established\r\n\r\n");
                assertThat(new String(in.readNBytes(4), StandardCharsets.ISO_8859_1)).isEqualTo("ping");
            }
            assertThat(echo.firstBytes()).isEqualTo("ping");
            io.cfrouter.core.RequestRecord record = router.record("tunnel.example.com:443");
            assertThat(record.status()).isEqualTo(200);
            assertThat(record.requestBytes()).isEqualTo(4);
            assertThat(record.responseBytes()).isEqualTo(4);
            int before = echo.accepted();
            HttpExchange.Response open = HttpExchange.send(router.port,
                    "CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n"
                            .getBytes(StandardCharsets.ISO_8859_1));
            assertThat(open.status()).isEqualTo(404);
            assertThat(open.header("X-Cf-RouterError")).contains("unknown_route");
            assertThat(echo.accepted()).isEqualTo(before);
        }
    }

    /** Client frames of RFC 6455 §5.2, written by hand so that the test knows every byte it sends. */
    static final class WebSocketFrames {
        private WebSocketFrames() {
        }

        /** A final frame with {@code opcode}, masked as a client must. */
        static byte[] masked(int opcode, byte[] payload) {
            ByteArrayOutputStream frame = new ByteArrayOutputStream();
            frame.write(0x80 | opcode);
            if (payload.length < 126) {
                frame.write(0x80 | payload.length);
            } else if (payload.length < 65_536) {
                frame.write(0x80 | 126);
                frame.write(payload.length >>> 8);
                frame.write(payload.length);
            } else {
                frame.write(0x80 | 127);
                for (int shift = 56; shift >= 0; shift -= 8) {
                    frame.write((int) ((long) payload.length >>> shift));
                }
            }
            byte[] mask = {0x12, 0x34, 0x56, 0x78};
            frame.writeBytes(mask);
            for (int i = 0; i < payload.length; i++) {
                frame.write(payload[i] ^ mask[i & 3]);
            }
            return frame.toByteArray();
        }
    }

    /** Collects whole messages from the JDK's WebSocket client. */
    static final class Echoes implements WebSocket.Listener {
        private final java.util.concurrent.BlockingQueue<Object> messages =
                new java.util.concurrent.LinkedBlockingQueue<>();
        private final StringBuilder text = new StringBuilder();
        private final ByteArrayOutputStream binary = new ByteArrayOutputStream();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                messages.add(text.toString());
                text.setLength(0);
            }
            ws.request(1);
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            byte[] b = new byte[data.remaining()];
            data.get(b);
            binary.writeBytes(b);
            if (last) {
                messages.add(binary.toByteArray());
                binary.reset();
            }
            ws.request(1);
            return CompletableFuture.completedFuture(null);
        }

        String nextText() throws InterruptedException {
            return (String) next();
        }

        byte[] nextBinary() throws InterruptedException {
            return (byte[]) next();
        }

        private Object next() throws InterruptedException {
            Object m = messages.poll(10, TimeUnit.SECONDS);
            assertThat(m).as("an echoed message").isNotNull();
            return m;
        }
    }

    /** Echoes every byte back; remembers what the first connection received first. */
    static final class EchoBackend implements AutoCloseable {
        private final RawSocketServer server = RawSocketServer.start(this::echo);
        private volatile byte[] first;

        int port() {
            return server.port();
        }

        int accepted() {
            return server.accepted();
        }

        String firstBytes() {
            return Await.value(Duration.ofSeconds(5), "bytes at the echo backend", () -> first, f -> f != null)
                    .length == 0 ? "" : new String(first, StandardCharsets.ISO_8859_1);
        }

        private void echo(Socket s) {
            try (s) {
                byte[] buf = new byte[8192];
                InputStream in = s.getInputStream();
                for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                    if (first == null) {
                        first = Arrays.copyOf(buf, n);
                    }
                    s.getOutputStream().write(buf, 0, n);
                    s.getOutputStream().flush();
                }
            } catch (IOException e) {
                // closed
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }
}
