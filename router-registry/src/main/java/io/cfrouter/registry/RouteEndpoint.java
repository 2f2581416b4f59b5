package io.cfrouter.registry;

import io.cfrouter.core.Endpoint;

/**
 * An endpoint as it lives in the routing table: the registered {@link Endpoint} plus the live state load
 * balancing needs (requests in flight, failure mark). The state is kept per address, so an endpoint that
 * sits in several routes counts its connections once. Thread-safe.
 */
public interface RouteEndpoint {

    /** The endpoint as last registered. */
    Endpoint endpoint();

    /** Requests in flight to this endpoint right now. */
    int inFlight();

    /**
     * Counts one more request in flight, unless the endpoint is at the connection limit.
     *
     * @return whether the request may go to this endpoint; if {@code true}, call {@link #release()} once
     */
    boolean tryAcquire();

    /** Ends a request counted by {@link #tryAcquire()}. */
    void release();

    /** Marks the endpoint failed: load balancing skips it for a while (the failure period). */
    void markFailed();

    /** Whether the endpoint is marked failed at this moment. */
    boolean isFailed();
}
