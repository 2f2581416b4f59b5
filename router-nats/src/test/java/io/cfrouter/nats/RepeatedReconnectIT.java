package io.cfrouter.nats;

import io.cfrouter.testsupport.Await;
import io.cfrouter.testsupport.NatsServerProcess;
import io.nats.client.Connection;
import io.nats.client.Message;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static io.cfrouter.nats.RouterUnderTest.register;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Many NATS restarts in a row: after every one the router must both receive (a fresh registration is
 * applied) and send (it answers {@code router.greet}). jnats 2.25.1 sometimes came out of a reconnect with
 * a writer that never sent again (nats.java issue 1522, fixed in 2.25.2); without the adapter's end-to-end
 * check a run of restarts hit that within a few cycles and the greet went unanswered, or pruning resumed on
 * a connection that delivered nothing. Kept for any client library change that brings such a case back.
 */
class RepeatedReconnectIT {

    private static final int RESTARTS = 20;
    private static final Duration DEADLINE = Duration.ofSeconds(20);

    private NatsServerProcess nats;
    private RouterUnderTest router;

    @AfterEach
    void stopAll() throws Exception {
        if (router != null) {
            router.close();
        }
        if (nats != null) {
            nats.close();
        }
    }

    @Test
    void shouldReceiveAndAnswerAfterEveryOneOfManyRestarts() throws Exception {
        nats = NatsServerProcess.start();
        router = RouterUnderTest.on(nats.port()).start();

        for (int i = 1; i <= RESTARTS; i++) {
            nats.kill();
            Await.until(DEADLINE, "pruning suspended in outage " + i, () -> router.registry.isPruningSuspended());
            nats.restart();
            int cycle = i;
            Await.until(DEADLINE, "reconnect " + i + " confirmed", () -> router.adapter.stats().connected()
                    && router.adapter.stats().reconnects() >= cycle);
            assertThat(router.registry.isPruningSuspended()).as("pruning resumed after reconnect " + i).isFalse();

            // A fresh client each time: the test's own connection must not go through a reconnect itself.
            try (Connection platform = RouterUnderTest.platform(nats.url())) {
                String uri = "after-" + i + ".example.com";
                Await.until(DEADLINE, uri + " registered", () -> {
                    platform.publish("router.register", register("10.0.0." + cycle, 8080, uri));
                    return router.lookup(uri) != null;
                });
                Message greet = platform.request("router.greet", new byte[0], Duration.ofSeconds(5));
                assertThat(greet).as("router.greet answered after reconnect " + i).isNotNull();
            }
        }
    }
}
