package io.cfrouter.registry;

/**
 * The endpoints one request may try, in the order load balancing chooses: never the same endpoint twice
 * while untried ones remain. Not thread-safe: one per request.
 */
public interface EndpointIterator {

    /**
     * The next endpoint to try, already counted in flight (call {@link RouteEndpoint#release()} when the
     * attempt ends), or {@code null} when none is left or every remaining one is at its connection limit.
     */
    RouteEndpoint next();

    /** Whether the last {@link #next()} returned {@code null} because every candidate was at its limit. */
    boolean connectionLimitReached();
}
