package io.cfrouter.nats;

import io.nats.client.Connection;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeoutException;

/**
 * Confirms that a jnats connection which just reported a reconnect really sends again, and forces another
 * reconnect when it does not.
 *
 * <p>jnats up to 2.25.1 could come out of a reconnect with a connection that says CONNECTED but never
 * writes another byte (nats.java issue 1522): its writer saw the end-of-reconnect marker before the
 * reconnecting thread had switched it to wait for that marker, and from then on read only the (empty)
 * reconnect queue. Publishes, PINGs and PONGs piled up unsent until the server dropped the connection as
 * stale, minutes later; a registrar stuck that way got its routes pruned. jnats 2.25.2 fixed that order
 * (the mode is set before the marker is queued), and this project uses a release with the fix; the check
 * stays as a guard at the cost of two round trips per reconnect, so that any writer that stops sending
 * after a reconnect, for whatever reason, becomes a logged forced reconnect instead of a silent outage.
 * A forced reconnect restarts the writer and sends everything queued.
 *
 * <p>Thread-safety: the method may be called from any thread, jnats callback threads included: it does its
 * waiting on a thread of its own.
 */
public final class ReconnectCheck {

    private static final Logger LOGGER = LogManager.getLogger();
    /** A round trip to a healthy local server takes milliseconds; this allows for a loaded machine. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(3);

    private ReconnectCheck() {
    }

    /**
     * Starts a check of {@code connection}, typically from a connection listener on
     * {@code RESUBSCRIBED}: flushes twice in a row (each a PING/PONG round trip through the same queue as
     * publishes), each within {@code timeout}; if one times out while the connection still reports
     * CONNECTED, logs at warn and forces a reconnect (whose own RESUBSCRIBED event should start another
     * check). Returns at once.
     *
     * @param connection the connection that reconnected
     * @param timeout    how long the round trip may take
     * @param name       what the connection is for, for the log
     */
    public static void confirmOrReconnect(Connection connection, Duration timeout, String name) {
        Thread t = new Thread(() -> run(connection, timeout, name), "cf-router-nats-reconnect-check");
        t.setDaemon(true);
        t.start();
    }

    private static void run(Connection connection, Duration timeout, String name) {
        try {
            // Twice: a writer in the broken state may still send the first message queued after the
            // reconnect (it waited on the normal queue when the mode went wrong and looks at the mode again
            // only after that batch), so only a second round trip tells.
            connection.flush(timeout);
            connection.flush(timeout);
        } catch (TimeoutException e) {
            if (connection.getStatus() != Connection.Status.CONNECTED) {
                return; // lost again: the client is reconnecting anyway
            }
            LOGGER.warn("NATS connection of {} reports a reconnect but sends nothing (no PONG within {} ms); "
                    + "forcing a reconnect", name, timeout.toMillis());
            forceReconnect(connection, name);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            // Closed or closing: nothing to confirm.
            LOGGER.debug("NATS reconnect check of {} stopped: {}", name, e.toString());
        }
    }

    static void forceReconnect(Connection connection, String name) {
        try {
            connection.forceReconnect();
        } catch (IOException | RuntimeException e) {
            LOGGER.warn("Forced NATS reconnect of {} failed; the client keeps reconnecting: {}", name, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
