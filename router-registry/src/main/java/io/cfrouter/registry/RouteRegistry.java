package io.cfrouter.registry;

import io.cfrouter.core.Endpoint;
import io.cfrouter.core.RouteKey;
import io.cfrouter.core.RouteRegistration;

import java.util.List;
import java.util.Map;

/**
 * The routing table: routes by key ({@code host[/path]}), each with a pool of endpoints, kept fresh by
 * registrations and emptied of endpoints that stop re-registering. It depends on nothing but
 * {@code router-core}, starts no thread and reads time only from its {@link io.cfrouter.core.Ticker}: the
 * embedding code calls {@link #pruneStale} on its own scheduler.
 *
 * <p>Thread-safety: every method may be called from any thread. {@link #lookup} takes no lock, never waits
 * for a writer and allocates nothing on a hit. Writers ({@code register}, {@code unregister},
 * {@code pruneStale}, {@code resumePruning}) are serialised among themselves; a change is visible to every
 * lookup that starts after the writer returns. Listeners are told after a change is visible, with no lock
 * held. The prune sweep holds the writers' lock one route at a time, so registrations carry on during it.
 *
 * <p>Create one with {@link #builder()}.
 */
public interface RouteRegistry {

    /** A builder with the defaults of the behaviour reference (120 s threshold, round-robin). */
    static RouteRegistryBuilder builder() {
        return new RouteRegistryBuilder();
    }

    /**
     * Finds the route for a request: under the exact host, else under the nearest wildcard
     * ({@code a.b.c.com}, then {@code *.b.c.com}, then {@code *.c.com}), the route whose path is the longest
     * whole-segment prefix of the request path ({@code app.com/bar} serves {@code /bar}, {@code /bar/} and
     * {@code /bar/x}, not {@code /barx}), or the host's host-only route.
     *
     * <p>Lock-free; allocates nothing when the path has no {@code %} escape before any query.
     *
     * @param host the request's {@code Host}: any case; a port is ignored; an IPv6 literal with or without
     *             brackets ({@code [::1]:8081}); {@code null} matches nothing
     * @param path the request path as sent, still escaped: a query is ignored; {@code %XX} escapes are
     *             decoded (UTF-8) before matching and a malformed one makes the request match nothing;
     *             {@code null} is the root
     * @return the route, or {@code null} when none matches
     */
    Route lookup(String host, String path);

    /**
     * Adds {@code endpoint} to the route {@code key} (creating the route), or, if its address
     * ({@code host:port}) is already in that pool, replaces its fields; either way its staleness clock for
     * this route restarts. Its threshold is its own {@code staleThreshold}, capped at the registry's. An
     * endpoint asking for a load-balancing algorithm sets the route's. Tells listeners (route added,
     * endpoint added or updated) once the change is visible; a re-registration that changes nothing tells
     * nobody.
     *
     * @throws NullPointerException if an argument is {@code null}
     */
    void register(RouteKey key, Endpoint endpoint);

    /**
     * Removes the endpoint with {@code address} ({@code host:port}, an IPv6 host in brackets, as
     * {@link Endpoint#address()} gives it) from that exact route only; the route goes when its pool empties.
     * Unknown routes and addresses are ignored. Tells listeners (endpoint removed, route removed).
     *
     * @throws NullPointerException if an argument is {@code null}
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
     * Removes from each route every endpoint whose threshold has passed since it last registered there, as
     * of {@code nowNanos} (a reading of the registry's ticker), and every route left empty. Does nothing
     * while pruning is suspended (and stops early if it is suspended during the sweep). Lookups carry on
     * during the sweep without waiting; writers wait at most for one route's endpoints. Tells listeners
     * (endpoint pruned, route removed). Meant to be called periodically by the embedding code.
     *
     * @return the number of endpoints removed from routes (an endpoint in two routes counts twice)
     */
    int pruneStale(long nowNanos);

    /**
     * Stops {@link #pruneStale} from removing anything (e.g. while NATS is unreachable, so the table is not
     * emptied because nobody could re-register). Registrations still restart clocks. Idempotent.
     */
    void suspendPruning();

    /**
     * Restarts every endpoint's staleness clock at the ticker's current reading, then lets
     * {@link #pruneStale} work again, so endpoints get a full threshold to re-register after an outage.
     */
    void resumePruning();

    /** Whether pruning is suspended. */
    boolean isPruningSuspended();

    /** Adds a listener; it is told of every change made after this returns. */
    void addListener(RegistryListener listener);

    /** Removes a listener added before (by identity); unknown listeners are ignored. */
    void removeListener(RegistryListener listener);

    /** The number of routes ({@code urls} in {@code /varz}). A single volatile read. */
    int routeCount();

    /**
     * The number of distinct endpoint addresses in any route ({@code droplets} in {@code /varz}). A single
     * volatile read.
     */
    int endpointCount();

    /**
     * The ticker reading of the last register, unregister that removed something, or prune that removed
     * something; {@link Long#MIN_VALUE} if there was none.
     */
    long lastUpdateNanos();

    /**
     * Every route and its endpoints, taken at one moment between two writes (for {@code /routes}), sorted
     * by key; immutable. Its size is {@link #routeCount()} and its distinct addresses are
     * {@link #endpointCount()} as of that moment. Holds the writers' lock while copying; lookups carry on.
     */
    Map<RouteKey, List<RouteEndpoint>> snapshot();

    /**
     * The ticker reading after which {@code endpoint} becomes stale in its route unless it registers again,
     * for reports ({@code ttl} in {@code /routes}).
     *
     * @param route the route the endpoint was found in (kept for compatibility; the endpoint knows)
     * @param endpoint an endpoint from this registry's {@link Route#endpoints()} or {@link #snapshot()}
     * @throws IllegalArgumentException if the endpoint does not come from a registry
     */
    long staleAtNanos(RouteKey route, RouteEndpoint endpoint);
}
