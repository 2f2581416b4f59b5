package io.cfrouter.nats;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * What the NATS adapter needs to know.
 *
 * @param servers the cluster, tried in order; at least one
 * @param routerId the router's id for {@code router.start} ({@code <index>-<uuid>}), stable for the process
 * @param routerHost the router's IP, announced in {@code router.start}
 * @param minimumRegisterInterval {@code start_response_delay_interval}: how often clients should register
 * @param pruneThreshold {@code droplet_stale_threshold}
 * @param suspendPruningWhileDisconnected {@code suspend_pruning_if_nats_unavailable}
 * @param connectAttempts connect attempts at start-up before giving up
 */
public record NatsSettings(List<NatsServerAddress> servers, String routerId, String routerHost,
                           Duration minimumRegisterInterval, Duration pruneThreshold,
                           boolean suspendPruningWhileDisconnected, int connectAttempts) {

    /** Validates. */
    public NatsSettings {
        servers = List.copyOf(Objects.requireNonNull(servers, "servers"));
        if (servers.isEmpty()) {
            throw new IllegalArgumentException("servers: empty (expected: at least one NATS server)");
        }
        Objects.requireNonNull(routerId, "routerId");
        Objects.requireNonNull(routerHost, "routerHost");
        Objects.requireNonNull(minimumRegisterInterval, "minimumRegisterInterval");
        Objects.requireNonNull(pruneThreshold, "pruneThreshold");
        if (connectAttempts < 1) {
            throw new IllegalArgumentException("connectAttempts: " + connectAttempts + " (expected: >= 1)");
        }
    }
}
