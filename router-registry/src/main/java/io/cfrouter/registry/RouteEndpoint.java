package io.cfrouter.registry;

import io.cfrouter.core.Endpoint;

/**
 * An endpoint as it lives in the routing table: the registered {@link Endpoint} plus the live state load
 * balancing needs (requests in flight, failure mark). That state is kept per address, so an endpoint that
 * sits in several routes counts its requests and its failure once; it survives re-registrations, and also
 * the address leaving and coming back while requests to it are still in flight.
 *
 * <p>Thread-safe: every method may be called from any thread, without locking.
 */
public interface RouteEndpoint {

    /** The endpoint as last registered (equal to, not necessarily the same object as, the one registered). */
    Endpoint endpoint();

    /**
     * The endpoint's {@link Endpoint#address() address} ({@code host:port}); the registry's endpoints build the
     * text once, not on every call.
     */
    default String address() {
        return endpoint().address();
    }

    /** Requests in flight to this address right now, across all routes. */
    int inFlight();

    /**
     * Counts one more request in flight, unless the address is at the registry's connection limit.
     *
     * @return whether the request may go to this endpoint; if {@code true}, call {@link #release()} once
     */
    boolean tryAcquire();

    /** Ends a request counted by {@link #tryAcquire()} or {@link EndpointIterator#next()}; never below zero. */
    void release();

    /**
     * Marks the address failed: load balancing skips it, in every route, for a quarter of the registry's
     * stale threshold (unless every endpoint of a route is marked failed).
     */
    void markFailed();

    /** Whether the address is marked failed at this moment. */
    boolean isFailed();
}
