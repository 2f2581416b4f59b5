package io.cfrouter.app.reliability;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.cfrouter.testsupport.Await;
import io.cfrouter.testsupport.NatsServerProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * 200 000 registrations in one burst: every one is applied, or every one dropped is counted (in
 * {@code /varz}) and logged; none is lost silently. Size with {@code -Dcfrouter.reliability.burst}.
 */
class RegisterBurstIT {

    private static final int BURST = Integer.getInteger("cfrouter.reliability.burst", 200_000);

    private NatsServerProcess nats;
    private Backend backend;
    private RouterProcess router;

    @BeforeEach
    void start() {
        nats = NatsServerProcess.start();
        backend = Backend.named("burst");
        router = RouterProcess.start(nats.port(), "");
    }

    @AfterEach
    void stop() {
        RouterProcess.closeAll(router, backend, nats);
    }

    private JsonObject varz() {
        return JsonParser.parseString(router.status("/varz").bodyText()).getAsJsonObject();
    }

    @Test
    void shouldApplyOrCountEveryRegistrationOfABurst() throws InterruptedException {
        try (Registrar registrar = new Registrar(nats.url())) {
            for (int i = 0; i < BURST; i++) {
                registrar.register("burst-" + i + ".example.com", backend.port(), "i" + i);
            }
            registrar.flush();
        }

        JsonObject settled = Await.value(Duration.ofSeconds(120), "every registration applied or counted as dropped",
                this::varz, v -> v.get("urls").getAsInt() + v.getAsJsonObject("nats").get("dropped_messages").getAsInt()
                        == BURST);
        long dropped = settled.getAsJsonObject("nats").get("dropped_messages").getAsLong();
        if (dropped > 0) {
            assertThat(router.log()).as("dropped messages are logged with their count").contains(Long.toString(dropped));
        } else {
            assertThat(router.get("burst-0.example.com", "/").bodyText()).isEqualTo("burst");
            assertThat(router.get("burst-" + (BURST - 1) + ".example.com", "/").bodyText()).isEqualTo("burst");
        }
        assertThat(settled.getAsJsonObject("nats").get("invalid_messages").getAsInt()).isZero();
        assertThat(router.isAlive()).isTrue();
    }
}
