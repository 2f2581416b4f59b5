package io.cfrouter.core;

import java.util.Optional;

/** How a route chooses among its endpoints. */
public enum LoadBalancing {
    /** Each endpoint in turn, starting at a random one. */
    ROUND_ROBIN("round-robin"),
    /** The endpoint with the fewest requests in flight; ties broken at random. */
    LEAST_CONNECTION("least-connection");

    private final String wireName;

    LoadBalancing(String wireName) {
        this.wireName = wireName;
    }

    /** The name used on the wire and in configuration, e.g. {@code round-robin}. */
    public String wireName() {
        return wireName;
    }

    /** The algorithm with this wire name, or empty when there is none. */
    public static Optional<LoadBalancing> fromWireName(String name) {
        for (LoadBalancing lb : values()) {
            if (lb.wireName.equals(name)) {
                return Optional.of(lb);
            }
        }
        return Optional.empty();
    }
}
