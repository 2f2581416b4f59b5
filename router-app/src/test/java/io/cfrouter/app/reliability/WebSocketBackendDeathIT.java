package io.cfrouter.app.reliability;

import io.cfrouter.testsupport.Await;
import io.cfrouter.testsupport.HttpExchange;
import io.cfrouter.testsupport.NatsServerProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Idle WebSocket connections held through the router, then their backend dies: every client sees its
 * connection close and the router's open file descriptors return to where they were. 1 000 connections
 * by default (the 10 000 with {@code -Dcfrouter.reliability.websockets=10000}).
 */
class WebSocketBackendDeathIT {

    private static final String HOST = "ws.example.com";
    private static final int CONNECTIONS = Integer.getInteger("cfrouter.reliability.websockets", 1_000);
    private static final String KEY = "dGhlIHNhbXBsZSBub25jZQ==";

    private NatsServerProcess nats;
    private RawBackend backend;
    private RouterProcess router;
    private final List<RawClient> clients = new ArrayList<>();

    @BeforeEach
    void start() {
        nats = NatsServerProcess.start();
        // Accepts any upgrade, then holds the connection idle until it dies.
        backend = RawBackend.start((socket, in, out, b) -> {
            if (b.readHead(in) == null) {
                return;
            }
            out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Accept: " + accept(KEY) + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            while (in.read() >= 0) {
                // idle
            }
        });
        router = RouterProcess.start(nats.port(), "");
        router.route(nats.url(), HOST, backend.port(), "");
    }

    @AfterEach
    void stop() {
        clients.forEach(RawClient::close);
        RouterProcess.closeAll(router, backend, nats);
    }

    private static String accept(String key) {
        try {
            byte[] sha1 = MessageDigest.getInstance("SHA-1").digest(
                    (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.ISO_8859_1));
            return Base64.getEncoder().encodeToString(sha1);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void shouldCloseEveryClientWhenTheBackendDies() {
        int baseline = router.openFds();
        for (int i = 0; i < CONNECTIONS; i++) {
            RawClient client = new RawClient(router.proxyPort());
            clients.add(client);
            HttpExchange.Response response = client.write("GET /socket/" + i + " HTTP/1.1\r\nHost: " + HOST
                    + "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                    + "Sec-WebSocket-Key: " + KEY + "\r\n\r\n").read();
            assertThat(response.status()).as("upgrade %d: %s", i, response).isEqualTo(101);
        }
        Await.until(Duration.ofSeconds(30), "the backend to hold every connection",
                () -> backend.openConnections() == CONNECTIONS);
        int holding = router.openFds();
        assertThat(holding).as("the router holds both sides of each connection")
                .isGreaterThanOrEqualTo(baseline + 2 * CONNECTIONS);

        backend.close();

        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        int open = 0;
        for (RawClient client : clients) {
            long left = Math.max(1, Duration.ofNanos(deadline - System.nanoTime()).toMillis());
            if (!client.closedWithin(Duration.ofMillis(left))) {
                open++;
            }
        }
        assertThat(open).as("clients whose connection stayed open after the backend died").isZero();
        Await.until(Duration.ofSeconds(30), "open fds back near " + baseline + " (were " + holding + ")",
                () -> router.openFds() <= baseline + 10);
        assertThat(router.get(HOST, "/", "User-Agent: HTTP-Monitor/1.1").status()).isEqualTo(200);
    }
}
