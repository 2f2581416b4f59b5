package io.cfrouter.registry;

import io.cfrouter.core.RouteKey;

import java.util.List;

/**
 * A route and its pool of endpoints, as returned by {@link RouteRegistry#lookup}.
 *
 * <p>Thread-safety: every method may be called from any thread, without locking. The object stays valid
 * after the route changes or disappears: {@link #endpoints()} and {@link #iterator} then give the pool as it
 * is at the moment of the call (possibly empty once the route is gone). One iterator sees the pool as it was
 * when the iterator was made, so a request's retries are not disturbed by registrations meanwhile.
 */
public interface Route {

    /** The route's key and its original-case context path (as first registered). */
    RouteKey key();

    /**
     * The endpoints at this moment, in registration order: an immutable list, empty only if the route has
     * gone since the lookup.
     */
    List<RouteEndpoint> endpoints();

    /**
     * An iterator over the endpoints for one request, in the order the route's load balancing chooses
     * (round-robin from where the last request left off, or least-connection), skipping endpoints marked
     * failed and endpoints at the connection limit. Allocates a small object; not itself thread-safe.
     *
     * @param stickyInstanceId an instance id to try first (from a {@code __VCAP_ID__} cookie), or
     *                         {@code null}; ignored when no endpoint has it, or it is marked failed or at its
     *                         limit
     */
    EndpointIterator iterator(String stickyInstanceId);
}
