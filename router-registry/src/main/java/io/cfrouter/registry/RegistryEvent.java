package io.cfrouter.registry;

import io.cfrouter.core.Endpoint;
import io.cfrouter.core.RouteKey;

import java.util.Objects;

/**
 * A change to the routing table, delivered to {@link RegistryListener}s after it is visible to lookups.
 * Immutable.
 *
 * @param type what changed
 * @param route the route concerned
 * @param endpoint the endpoint concerned; {@code null} for route events
 */
public record RegistryEvent(Type type, RouteKey route, Endpoint endpoint) {

    /** The kinds of change. */
    public enum Type {
        /** A route appeared (its first endpoint registered). */
        ROUTE_ADDED,
        /** A route disappeared (its last endpoint left). */
        ROUTE_REMOVED,
        /** An endpoint joined a route. */
        ENDPOINT_ADDED,
        /** An endpoint re-registered with different fields. */
        ENDPOINT_UPDATED,
        /** An endpoint unregistered from a route. */
        ENDPOINT_REMOVED,
        /** An endpoint was removed from a route for not re-registering in time. */
        ENDPOINT_PRUNED
    }

    /** Validates: {@code type} and {@code route} must not be {@code null}. */
    public RegistryEvent {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(route, "route");
    }
}
