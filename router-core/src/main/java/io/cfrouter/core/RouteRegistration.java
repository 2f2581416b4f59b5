package io.cfrouter.core;

import java.util.List;
import java.util.Objects;

/**
 * One {@code router.register} or {@code router.unregister} message, decoded: the endpoint and the routes
 * it joins or leaves.
 *
 * @param endpoint the backend instance
 * @param routes the routes, at least one
 */
public record RouteRegistration(Endpoint endpoint, List<RouteKey> routes) {

    /** Validates and copies. */
    public RouteRegistration {
        Objects.requireNonNull(endpoint, "endpoint");
        routes = List.copyOf(Objects.requireNonNull(routes, "routes"));
        if (routes.isEmpty()) {
            throw new IllegalArgumentException("routes: empty (expected: at least one uri)");
        }
    }
}
