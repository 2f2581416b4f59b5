package io.cfrouter.app.reliability;

import io.cfrouter.testsupport.HttpExchange;
import io.cfrouter.testsupport.NatsServerProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A backend that dies in the middle of a response: the client sees a truncated response or a 502, the
 * router stays healthy, and the dead endpoint is skipped while the others serve.
 */
class BackendCrashIT {

    private static final String HOST = "crash.example.com";
    private static final int DECLARED = 100_000;

    private NatsServerProcess nats;
    private RawBackend dying;
    private Backend healthy;
    private RouterProcess router;

    @BeforeEach
    void start() {
        nats = NatsServerProcess.start();
        // Sends a head promising 100 000 bytes, 1 000 of them, then resets the connection: a crash.
        dying = RawBackend.start((socket, in, out, backend) -> {
            if (backend.readRequest(in) == null) {
                return;
            }
            out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + DECLARED + "\r\n\r\n" + "x".repeat(1_000))
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            socket.setSoLinger(true, 0);
            socket.close();
        });
        healthy = Backend.named("healthy");
        router = RouterProcess.start(nats.port(), "");
        router.route(nats.url(), HOST, healthy.port(), "healthy");
        router.route(nats.url(), HOST, dying.port(), "dying");
    }

    @AfterEach
    void stop() {
        RouterProcess.closeAll(router, dying, healthy, nats);
    }

    @Test
    void shouldTruncateOrFailTheCrashedResponseThenSkipTheDeadEndpoint() {
        for (int i = 0; i < 4 && dying.requests() == 0; i++) {
            HttpExchange.Response response;
            try {
                response = router.get(HOST, "/");
            } catch (UncheckedIOException reset) {
                continue; // a reset after part of the body: the client saw a truncated response
            }
            if (dying.requests() > 0) {
                assertThat(response.status() == 502 || response.body().length < DECLARED)
                        .as("a crashed response is a 502 or visibly truncated: " + response).isTrue();
            } else {
                assertThat(response.bodyText()).isEqualTo("healthy");
            }
        }
        assertThat(dying.requests()).as("round-robin reached the dying endpoint").isEqualTo(1);

        assertThat(router.isAlive()).isTrue();
        assertThat(HttpExchange.get(router.statusPort(), "localhost", "/health").status()).isEqualTo(200);
        assertThat(router.get("any.host", "/", "User-Agent: HTTP-Monitor/1.1").status()).isEqualTo(200);

        for (int i = 0; i < 20; i++) {
            HttpExchange.Response response = router.get(HOST, "/after/" + i);
            assertThat(response.status()).as("request %d after the crash", i).isEqualTo(200);
            assertThat(response.bodyText()).as("request %d after the crash went to", i).isEqualTo("healthy");
        }
        assertThat(dying.requests()).as("requests sent to the endpoint marked failed").isEqualTo(1);
    }
}
