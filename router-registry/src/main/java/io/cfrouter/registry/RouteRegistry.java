package io.cfrouter.registry;

import io.cfrouter.core.Endpoint;
import io.cfrouter.core.RouteKey;
import io.cfrouter.core.RouteRegistration;

import java.util.List;
import java.util.Map;

/**
 * The routing table: routes by key, each with a pool of endpoints, kept fresh by registrations and
 * emptied of endpoints that stop re-registering.
 *
 * <p>Thread-safety: every method may be called from any thread. {@link #lookup} never waits for a
 * writer and allocates nothing on a hit; writers are serialised among themselves and publish immutable
 * pools. Listeners are told after a change is visible, with no lock held.
 *
 * <p>Create one with {@link #builder()}.
 */
public interface RouteRegistry {

    /** A builder with the defaults of the behaviour reference (120 s threshold, round-robin). */
    static RouteRegistryBuilder builder() {
        return new RouteRegistryBuilder();
    }

    /**
     * Finds the route for a request.
     *
     * @param host the request's {@code Host} (any case; a port, and brackets around an IPv6 literal, are
     *             ignored)
     * @param path the request path (may carry a query, which is ignored)
     * @return the route with the longest matching path under the exact host, else under the nearest
     *         wildcard; {@code null} when none matches
     */
    Route lookup(String host, String path);

    /**
     * Adds {@code endpoint} to the route {@code key}, or, if its address is already in that pool, replaces
     * its fields; either way its staleness clock restarts.
     */
    void register(RouteKey key, Endpoint endpoint);

    /**
     * Removes the endpoint with {@code address} ({@code host:port}) from that exact route; the route goes
     * when its pool empties. Unknown routes and addresses are ignored.
     */
    void unregister(RouteKey key, String address);

    /** {@link #register(RouteKey, Endpoint)} for each route of a message. */
    default void register(RouteRegistration registration) {
        for (RouteKey key : registration.routes()) {
            register(key, registration.endpoint());
        }
    }

    /** {@link #unregister(RouteKey, String)} for each route of a message. */
    default void unregister(RouteRegistration registration) {
        for (RouteKey key : registration.routes()) {
            unregister(key, registration.endpoint().address());
        }
    }

    /**
     * Removes every endpoint whose threshold has passed since it last registered, as of {@code nowNanos}
     * (a reading of the registry's ticker). Does nothing while pruning is suspended. Lookups carry on
     * during the sweep.
     *
     * @return the number of endpoints removed from routes
     */
    int pruneStale(long nowNanos);

    /** Stops {@link #pruneStale} from removing anything (e.g. while NATS is unreachable). */
    void suspendPruning();

    /** Restarts every endpoint's staleness clock, then lets {@link #pruneStale} work again. */
    void resumePruning();

    /** Whether pruning is suspended. */
    boolean isPruningSuspended();

    /** Adds a listener for changes. */
    void addListener(RegistryListener listener);

    /** Removes a listener added before. */
    void removeListener(RegistryListener listener);

    /** The number of routes ({@code urls} in {@code /varz}). */
    int routeCount();

    /** The number of distinct endpoint addresses ({@code droplets} in {@code /varz}). */
    int endpointCount();

    /** The ticker reading of the last change, or {@link Long#MIN_VALUE} if there was none. */
    long lastUpdateNanos();

    /** Every route and its endpoints, taken at one moment (for {@code /routes}). */
    Map<RouteKey, List<RouteEndpoint>> snapshot();

    /** The ticker reading at which {@code endpoint} of {@code route} becomes stale, for reports. */
    long staleAtNanos(RouteKey route, RouteEndpoint endpoint);
}
