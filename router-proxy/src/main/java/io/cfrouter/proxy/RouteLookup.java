package io.cfrouter.proxy;

import io.cfrouter.registry.Route;
import io.cfrouter.registry.RouteRegistry;
import io.undertow.server.HttpServerExchange;

/**
 * Chooses the route (and so the endpoints) for a request: the seam where an embedder puts its own endpoint
 * selection. The default looks the request up in the {@link RouteRegistry}; a wrapper may answer some
 * requests itself and hand the rest to it, or return a {@link Route} whose iterator orders endpoints its own
 * way. Called on an I/O thread for every request: it must not block, and must be thread-safe.
 */
@FunctionalInterface
public interface RouteLookup {

    /**
     * The route for a request, or {@code null} for none (the router answers 404 {@code unknown_route}).
     *
     * @param exchange the request
     * @param host the {@code Host} header as sent (never empty)
     * @param path the request path as sent (still percent-encoded, without the query)
     */
    Route lookup(HttpServerExchange exchange, String host, String path);

    /** The routing table's own longest-match lookup (behaviour reference §2). */
    static RouteLookup of(RouteRegistry registry) {
        return (exchange, host, path) -> registry.lookup(host, path);
    }
}
