package io.cfrouter.registry;

/**
 * The endpoints one request may try, in the order load balancing chooses: never the same endpoint twice
 * while untried ones remain. It walks the route's endpoints as they were when it was made.
 *
 * <p>Endpoints marked failed ({@link RouteEndpoint#markFailed()}) are skipped; if every endpoint left is
 * marked failed, the marks are cleared and they are tried anyway. Endpoints at the registry's connection
 * limit are skipped.
 *
 * <p>Not thread-safe: one per request, used by one thread at a time.
 */
public interface EndpointIterator {

    /**
     * The next endpoint to try, already counted in flight (call {@link RouteEndpoint#release()} once when
     * the attempt ends), or {@code null} when every endpoint has been tried or every remaining one is at its
     * connection limit.
     */
    RouteEndpoint next();

    /**
     * Whether the last {@link #next()} returned {@code null} because every remaining candidate was at its
     * connection limit (rather than because every endpoint had been tried).
     */
    boolean connectionLimitReached();
}
