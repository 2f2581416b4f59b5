package io.cfrouter.app.reliability;

import io.cfrouter.nats.ReconnectCheck;
import io.nats.client.Connection;
import io.nats.client.ConnectionListener;
import io.nats.client.Nats;
import io.nats.client.Options;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeoutException;

/** Announces routes over NATS the way an application's route emitter does. Reconnects for ever. */
final class Registrar implements AutoCloseable {

    private final Connection connection;

    Registrar(String natsUrl) {
        try {
            // jnats can come out of a reconnect unable to send (see ReconnectCheck): the emitter must not
            // fall silent then, or the router rightly prunes its routes.
            connection = Nats.connect(new Options.Builder().server(natsUrl).maxReconnects(-1)
                    .reconnectWait(Duration.ofMillis(100))
                    .connectionListener((conn, type) -> {
                        if (type == ConnectionListener.Events.RESUBSCRIBED) {
                            ReconnectCheck.confirmOrReconnect(conn, ReconnectCheck.DEFAULT_TIMEOUT, "test emitter");
                        }
                    })
                    .build());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot connect to NATS at " + natsUrl, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    static String message(String uri, int port, String instanceId) {
        String instance = instanceId.isEmpty() ? ""
                : ",\"app\":\"app-" + instanceId + "\",\"private_instance_id\":\"" + instanceId + "\"";
        return "{\"host\":\"127.0.0.1\",\"port\":" + port + ",\"uris\":[\"" + uri + "\"]" + instance + "}";
    }

    /** Registers {@code 127.0.0.1:port} for {@code uri}, with app id {@code app-<instanceId>} when given. */
    void register(String uri, int port, String instanceId) {
        publish("router.register", message(uri, port, instanceId));
    }

    void publish(String subject, String json) {
        connection.publish(subject, json.getBytes(StandardCharsets.UTF_8));
    }

    /** Waits until the server has everything published so far. */
    void flush() {
        try {
            connection.flush(Duration.ofSeconds(30));
        } catch (TimeoutException e) {
            throw new IllegalStateException("NATS flush timed out", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    @Override
    public void close() throws InterruptedException {
        connection.close();
    }
}
