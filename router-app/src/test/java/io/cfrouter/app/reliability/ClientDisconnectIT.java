package io.cfrouter.app.reliability;

import io.cfrouter.testsupport.Await;
import io.cfrouter.testsupport.NatsServerProcess;
import io.undertow.server.handlers.BlockingHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Clients that vanish in the middle of their request or of the response: the router releases the backend
 * connection (its open file descriptors come back to where they were) and does not blame the endpoint.
 */
class ClientDisconnectIT {

    private static final String HOST = "disconnect.example.com";
    private static final int CLIENTS = Integer.getInteger("cfrouter.reliability.disconnectClients", 1_000);
    private static final int CONCURRENCY = 8;

    private NatsServerProcess nats;
    private Backend streaming;
    private Backend quick;
    private RouterProcess router;

    @BeforeEach
    void start() {
        nats = NatsServerProcess.start();
        // Reads whole uploads and streams 4 MiB downloads: the requests a vanishing client interrupts.
        streaming = Backend.start(new BlockingHandler(exchange -> {
            switch (exchange.getRequestPath()) {
                case "/upload" -> {
                    exchange.getInputStream().transferTo(OutputStream.nullOutputStream());
                    exchange.getOutputStream().write("streaming".getBytes());
                }
                case "/stream" -> {
                    byte[] chunk = new byte[16 * 1024];
                    for (int i = 0; i < 256; i++) {
                        exchange.getOutputStream().write(chunk);
                    }
                }
                default -> exchange.getOutputStream().write("streaming".getBytes());
            }
        }));
        quick = Backend.named("quick");
        router = RouterProcess.start(nats.port(), "");
        router.route(nats.url(), HOST, streaming.port(), "streaming");
        router.route(nats.url(), HOST, quick.port(), "quick");
    }

    @AfterEach
    void stop() {
        RouterProcess.closeAll(router, streaming, quick, nats);
    }

    @Test
    void shouldReleaseBackendConnectionsAndNotMarkTheEndpointWhenClientsVanish() throws Exception {
        for (int i = 0; i < 2 * CONCURRENCY; i++) {
            assertThat(router.get(HOST, "/warm-up").status()).isEqualTo(200);
        }
        int baseline = router.openFds();

        ExecutorService clients = Executors.newFixedThreadPool(CONCURRENCY);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                int n = i;
                done.add(clients.submit(() -> vanish(n)));
            }
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            clients.shutdownNow();
        }

        // Idle pooled backend connections may stay, but never more than the clients' concurrency.
        int allowance = 2 * CONCURRENCY + 10;
        Await.until(Duration.ofSeconds(30), "open fds back near the baseline of " + baseline,
                () -> router.openFds() <= baseline + allowance);

        Set<String> answeredBy = new HashSet<>();
        for (int i = 0; i < 10; i++) {
            answeredBy.add(router.get(HOST, "/who").bodyText());
        }
        assertThat(answeredBy).as("endpoints still chosen after the disconnects")
                .containsExactlyInAnyOrder("streaming", "quick");
        assertThat(router.isAlive()).isTrue();
    }

    /** One client that goes away: mid-upload or mid-download, with a FIN or a reset. */
    private void vanish(int n) {
        try (RawClient client = new RawClient(router.proxyPort())) {
            if (n % 2 == 0) {
                client.write("POST /upload HTTP/1.1\r\nHost: " + HOST + "\r\nContent-Length: 1000000\r\n\r\n")
                        .write(new byte[4096]);
            } else {
                client.write("GET /stream HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n");
                InputStream in = client.in();
                in.readNBytes(100);
            }
            if (n % 4 < 2) {
                client.abort();
            }
        } catch (IOException | RuntimeException e) {
            throw new AssertionError("client " + n + " could not even start: " + e, e);
        }
    }
}
