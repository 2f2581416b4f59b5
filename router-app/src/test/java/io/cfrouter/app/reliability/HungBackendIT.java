package io.cfrouter.app.reliability;

import io.cfrouter.testsupport.Await;
import io.cfrouter.testsupport.HttpExchange;
import io.cfrouter.testsupport.NatsServerProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** A backend that accepts and never answers: 502 after {@code endpoint_timeout}, other routes unaffected. */
class HungBackendIT {

    private static final Duration ENDPOINT_TIMEOUT = Duration.ofSeconds(3);

    private NatsServerProcess nats;
    private RawBackend hung;
    private Backend other;
    private RouterProcess router;

    @BeforeEach
    void start() {
        nats = NatsServerProcess.start();
        hung = RawBackend.start((socket, in, out, backend) -> {
            backend.readRequest(in);
            while (in.read() >= 0) {
                // never answer; wait for the router to give up
            }
        });
        other = Backend.named("other");
        router = RouterProcess.start(nats.port(), "endpoint_timeout = " + ENDPOINT_TIMEOUT.toMillis() + "ms\n");
        router.route(nats.url(), "hung.example.com", hung.port(), "");
        router.route(nats.url(), "other.example.com", other.port(), "");
    }

    @AfterEach
    void stop() {
        RouterProcess.closeAll(router, hung, other, nats);
    }

    @Test
    void shouldAnswer502AfterTheEndpointTimeoutWhileOtherRoutesServe() throws Exception {
        long start = System.nanoTime();
        CompletableFuture<HttpExchange.Response> stuck =
                CompletableFuture.supplyAsync(() -> router.get("hung.example.com", "/"));
        Await.until(Duration.ofSeconds(5), "the hung backend to get the request", () -> hung.requests() > 0);

        int servedMeanwhile = 0;
        for (int i = 0; i < 200 && !stuck.isDone(); i++) {
            HttpExchange.Response response = router.get("other.example.com", "/" + i);
            assertThat(response.status()).as("other route, request %d: %s", i, response).isEqualTo(200);
            assertThat(response.bodyText()).isEqualTo("other");
            servedMeanwhile++;
        }
        HttpExchange.Response response = stuck.get(ENDPOINT_TIMEOUT.toSeconds() + 30, TimeUnit.SECONDS);
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        assertThat(servedMeanwhile).as("other requests served while one waited").isPositive();
        assertThat(response.status()).as(response.toString()).isEqualTo(502);
        assertThat(response.header("X-Cf-RouterError")).contains("endpoint_failure");
        assertThat(took).isGreaterThanOrEqualTo(ENDPOINT_TIMEOUT.minusMillis(100))
                .isLessThan(ENDPOINT_TIMEOUT.plusSeconds(3));
        assertThat(router.get("other.example.com", "/after").status()).isEqualTo(200);
    }
}
