package io.cfrouter.core;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * A backend instance as announced in {@code router.register}: its address and the metadata the router
 * forwards and reports. Identity in a pool is the {@link #address()} ({@code host:port}) alone.
 *
 * @param host backend IP or name (an IPv6 literal without brackets)
 * @param port backend HTTP port, 1-65535
 * @param appId application id, or empty
 * @param instanceId private instance id (also the sticky-session cookie value), or empty
 * @param instanceIndex private instance index, or empty
 * @param tags free metadata; the {@code component} tag groups statistics (held as an immutable copy that
 *             keeps the order of the map given and takes little memory)
 * @param staleThreshold this endpoint's own staleness threshold; {@link Duration#ZERO} means the router's
 * @param loadBalancing the route's balancing override, or {@code null} for the router's default
 */
public record Endpoint(String host, int port, String appId, String instanceId, String instanceIndex,
                       Map<String, String> tags, Duration staleThreshold, LoadBalancing loadBalancing) {

    /** Validates the address and copies the tags. */
    public Endpoint {
        Objects.requireNonNull(host, "host");
        if (host.isEmpty()) {
            throw new IllegalArgumentException("host: empty (expected: an IP or a name)");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port: " + port + " (expected: 1-65535)");
        }
        appId = appId == null ? "" : appId;
        instanceId = instanceId == null ? "" : instanceId;
        instanceIndex = instanceIndex == null ? "" : instanceIndex;
        tags = tags == null ? Map.of() : CompactStringMap.copyOf(tags);
        staleThreshold = staleThreshold == null ? Duration.ZERO : staleThreshold;
        if (staleThreshold.isNegative()) {
            throw new IllegalArgumentException("staleThreshold: " + staleThreshold + " (expected: >= 0)");
        }
    }

    /** An endpoint with only an address. */
    public static Endpoint of(String host, int port) {
        return new Endpoint(host, port, "", "", "", Map.of(), Duration.ZERO, null);
    }

    /** {@code host:port}, with an IPv6 host in brackets. */
    public String address() {
        return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
    }

    /** The {@code component} tag, or empty. */
    public String component() {
        return tags.getOrDefault("component", "");
    }
}
