package io.cfrouter.registry;

import io.cfrouter.core.RouteKey;

import java.util.List;

/**
 * A route and its pool of endpoints, as seen by one lookup: an immutable view (a later registration
 * publishes a new one), whose endpoints carry live load-balancing state.
 */
public interface Route {

    /** The route's key (and original-case context path). */
    RouteKey key();

    /** The endpoints, in registration order. Never empty. */
    List<RouteEndpoint> endpoints();

    /**
     * An iterator over the endpoints for one request, in load-balancing order.
     *
     * @param stickyInstanceId an instance id to try first (from a {@code __VCAP_ID__} cookie), or
     *                         {@code null}; ignored when no endpoint has it or it is at its limit
     */
    EndpointIterator iterator(String stickyInstanceId);
}
