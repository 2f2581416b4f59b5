package io.cfrouter.nats;

/**
 * The NATS connection's figures for {@code /varz}, read at one moment.
 *
 * @param connected whether the connection is up
 * @param reconnects reconnects since start
 * @param messagesReceived route messages received
 * @param invalidMessages messages refused as malformed
 * @param droppedMessages messages lost by the client (slow consumer)
 */
public record NatsStats(boolean connected, long reconnects, long messagesReceived, long invalidMessages,
                        long droppedMessages) {
}
