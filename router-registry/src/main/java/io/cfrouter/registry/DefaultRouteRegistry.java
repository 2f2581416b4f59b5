package io.cfrouter.registry;

import io.cfrouter.core.Endpoint;
import io.cfrouter.core.LoadBalancing;
import io.cfrouter.core.RouteKey;
import io.cfrouter.core.Ticker;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The routing table. Lookups read a {@link ConcurrentHashMap} of immutable pools; writers hold one lock
 * among themselves, publish a new pool per change and tell listeners after releasing it.
 */
final class DefaultRouteRegistry implements RouteRegistry {

    private static final Logger LOGGER = LogManager.getLogger();

    private final Ticker ticker;
    private final long staleThresholdNanos;
    private final long failurePeriodNanos;
    private final LoadBalancing defaultLoadBalancing;
    private final int maxConns;

    private final ConcurrentHashMap<String, Pool> routes = new ConcurrentHashMap<>();
    /** Live state per address, shared by every pool the address is in; guarded by {@link #writeLock}. */
    private final Map<String, EndpointState> states = new ConcurrentHashMap<>();
    private final ReentrantLock writeLock = new ReentrantLock();
    private final List<RegistryListener> listeners = new CopyOnWriteArrayList<>();
    private volatile boolean pruningSuspended;
    private volatile long lastUpdateNanos = Long.MIN_VALUE;

    DefaultRouteRegistry(Ticker ticker, long staleThresholdNanos, LoadBalancing defaultLoadBalancing, int maxConns) {
        this.ticker = ticker;
        this.staleThresholdNanos = staleThresholdNanos;
        this.failurePeriodNanos = staleThresholdNanos / 4;
        this.defaultLoadBalancing = defaultLoadBalancing;
        this.maxConns = maxConns;
    }

    // ---- lookup -------------------------------------------------------------------------------------

    @Override
    public Route lookup(String host, String path) {
        String h = normaliseHost(host);
        if (h.isEmpty() || !validEscapes(path)) {
            return null;
        }
        String p = normalisePath(path);
        Pool pool = longestMatch(h, p);
        if (pool != null) {
            return pool;
        }
        for (int dot = h.indexOf('.'); dot >= 0; dot = h.indexOf('.', dot + 1)) {
            pool = longestMatch("*" + h.substring(dot), p);
            if (pool != null) {
                return pool;
            }
        }
        return null;
    }

    private Pool longestMatch(String host, String path) {
        String candidate = path.isEmpty() ? host : host + "/" + path;
        while (true) {
            Pool pool = routes.get(candidate);
            if (pool != null) {
                return pool;
            }
            int slash = candidate.lastIndexOf('/');
            if (slash < host.length()) {
                return null;
            }
            candidate = candidate.substring(0, slash);
        }
    }

    static String normaliseHost(String host) {
        if (host == null) {
            return "";
        }
        String h = host.trim();
        if (h.startsWith("[")) {
            int close = h.indexOf(']');
            h = close < 0 ? h.substring(1) : h.substring(1, close);
        } else {
            int colon = h.indexOf(':');
            if (colon >= 0 && h.indexOf(':', colon + 1) < 0) {
                h = h.substring(0, colon);
            }
        }
        return h.toLowerCase(Locale.ROOT);
    }

    private static String normalisePath(String path) {
        if (path == null) {
            return "";
        }
        int end = path.length();
        int q = path.indexOf('?');
        if (q >= 0) {
            end = q;
        }
        int from = 0;
        while (from < end && path.charAt(from) == '/') {
            from++;
        }
        while (end > from && path.charAt(end - 1) == '/') {
            end--;
        }
        return path.substring(from, end).toLowerCase(Locale.ROOT);
    }

    private static boolean validEscapes(String path) {
        if (path == null) {
            return true;
        }
        for (int i = path.indexOf('%'); i >= 0; i = path.indexOf('%', i + 1)) {
            if (i + 2 >= path.length() || Character.digit(path.charAt(i + 1), 16) < 0
                    || Character.digit(path.charAt(i + 2), 16) < 0) {
                return false;
            }
        }
        return true;
    }

    // ---- writes -------------------------------------------------------------------------------------

    @Override
    public void register(RouteKey key, Endpoint endpoint) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(endpoint, "endpoint");
        long now = ticker.read();
        List<RegistryEvent> events = new ArrayList<>(2);
        writeLock.lock();
        try {
            Pool pool = routes.get(key.key());
            String address = endpoint.address();
            if (pool == null) {
                Member member = new Member(stateFor(address), endpoint, now);
                routes.put(key.key(), new Pool(key, new Member[] {member}, balancingFor(endpoint)));
                events.add(new RegistryEvent(RegistryEvent.Type.ROUTE_ADDED, key, null));
                events.add(new RegistryEvent(RegistryEvent.Type.ENDPOINT_ADDED, key, endpoint));
            } else {
                int i = pool.indexOf(address);
                if (i < 0) {
                    Member[] members = Arrays.copyOf(pool.members, pool.members.length + 1);
                    members[members.length - 1] = new Member(stateFor(address), endpoint, now);
                    routes.put(key.key(), new Pool(pool.key, members, balancingFor(endpoint)));
                    events.add(new RegistryEvent(RegistryEvent.Type.ENDPOINT_ADDED, key, endpoint));
                } else if (pool.members[i].endpoint.equals(endpoint)) {
                    pool.members[i].lastSeenNanos = now;
                } else {
                    Member[] members = pool.members.clone();
                    members[i] = new Member(members[i].state, endpoint, now);
                    routes.put(key.key(), new Pool(pool.key, members, balancingFor(endpoint)));
                    events.add(new RegistryEvent(RegistryEvent.Type.ENDPOINT_UPDATED, key, endpoint));
                }
            }
            lastUpdateNanos = now;
        } finally {
            writeLock.unlock();
        }
        fire(events);
    }

    @Override
    public void unregister(RouteKey key, String address) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(address, "address");
        List<RegistryEvent> events = new ArrayList<>(2);
        writeLock.lock();
        try {
            Pool pool = routes.get(key.key());
            if (pool == null) {
                return;
            }
            int i = pool.indexOf(address);
            if (i < 0) {
                return;
            }
            removeMember(pool, i, RegistryEvent.Type.ENDPOINT_REMOVED, events);
            lastUpdateNanos = ticker.read();
        } finally {
            writeLock.unlock();
        }
        fire(events);
    }

    /** Caller holds the write lock. */
    private void removeMember(Pool pool, int i, RegistryEvent.Type type, List<RegistryEvent> events) {
        Member gone = pool.members[i];
        releaseState(gone.state);
        events.add(new RegistryEvent(type, pool.key, gone.endpoint));
        if (pool.members.length == 1) {
            routes.remove(pool.key.key());
            events.add(new RegistryEvent(RegistryEvent.Type.ROUTE_REMOVED, pool.key, null));
            return;
        }
        Member[] members = new Member[pool.members.length - 1];
        System.arraycopy(pool.members, 0, members, 0, i);
        System.arraycopy(pool.members, i + 1, members, i, members.length - i);
        routes.put(pool.key.key(), new Pool(pool.key, members, pool.loadBalancing));
    }

    private EndpointState stateFor(String address) {
        EndpointState state = states.computeIfAbsent(address, a -> new EndpointState());
        state.references++;
        return state;
    }

    private void releaseState(EndpointState state) {
        if (--state.references == 0) {
            states.values().remove(state);
        }
    }

    private LoadBalancing balancingFor(Endpoint endpoint) {
        return endpoint.loadBalancing() != null ? endpoint.loadBalancing() : defaultLoadBalancing;
    }

    @Override
    public int pruneStale(long nowNanos) {
        if (pruningSuspended) {
            return 0;
        }
        int pruned = 0;
        for (Pool pool : routes.values()) {
            if (!pool.hasStale(nowNanos)) {
                continue;
            }
            List<RegistryEvent> events = new ArrayList<>();
            writeLock.lock();
            try {
                if (pruningSuspended) {
                    return pruned;
                }
                Pool current = routes.get(pool.key.key());
                for (int i = current == null ? -1 : current.members.length - 1; i >= 0; i--) {
                    if (current.members[i].isStale(nowNanos)) {
                        removeMember(current, i, RegistryEvent.Type.ENDPOINT_PRUNED, events);
                        current = routes.get(pool.key.key());
                        pruned++;
                        if (current == null) {
                            break;
                        }
                    }
                }
                if (!events.isEmpty()) {
                    lastUpdateNanos = nowNanos;
                }
            } finally {
                writeLock.unlock();
            }
            fire(events);
        }
        return pruned;
    }

    @Override
    public void suspendPruning() {
        pruningSuspended = true;
    }

    @Override
    public void resumePruning() {
        writeLock.lock();
        try {
            long now = ticker.read();
            for (Pool pool : routes.values()) {
                for (Member m : pool.members) {
                    m.lastSeenNanos = now;
                }
            }
            pruningSuspended = false;
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public boolean isPruningSuspended() {
        return pruningSuspended;
    }

    // ---- listeners and reports ----------------------------------------------------------------------

    @Override
    public void addListener(RegistryListener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    @Override
    public void removeListener(RegistryListener listener) {
        listeners.remove(listener);
    }

    private void fire(List<RegistryEvent> events) {
        for (RegistryEvent event : events) {
            for (RegistryListener listener : listeners) {
                try {
                    listener.onChange(event);
                } catch (RuntimeException e) {
                    LOGGER.warn("Registry listener {} failed on {}", listener, event, e);
                }
            }
        }
    }

    @Override
    public int routeCount() {
        return routes.size();
    }

    @Override
    public int endpointCount() {
        return states.size();
    }

    @Override
    public long lastUpdateNanos() {
        return lastUpdateNanos;
    }

    @Override
    public Map<RouteKey, List<RouteEndpoint>> snapshot() {
        writeLock.lock();
        try {
            Map<RouteKey, List<RouteEndpoint>> copy = new LinkedHashMap<>();
            for (Pool pool : routes.values()) {
                copy.put(pool.key, pool.endpoints());
            }
            return Collections.unmodifiableMap(copy);
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public long staleAtNanos(RouteKey route, RouteEndpoint endpoint) {
        Member m = (Member) endpoint;
        return m.lastSeenNanos + m.thresholdNanos;
    }

    // ---- the pool and its members -------------------------------------------------------------------

    /** Live state of one address, shared across pools. */
    static final class EndpointState {
        final AtomicInteger inFlight = new AtomicInteger();
        volatile long failedUntilNanos = Long.MIN_VALUE;
        /** Number of pools holding this address; guarded by the write lock. */
        int references;
    }

    /** One endpoint in one pool. */
    final class Member implements RouteEndpoint {
        final EndpointState state;
        final Endpoint endpoint;
        final long thresholdNanos;
        volatile long lastSeenNanos;

        Member(EndpointState state, Endpoint endpoint, long now) {
            this.state = state;
            this.endpoint = endpoint;
            long own = endpoint.staleThreshold().toNanos();
            this.thresholdNanos = own <= 0 || own > staleThresholdNanos ? staleThresholdNanos : own;
            this.lastSeenNanos = now;
        }

        boolean isStale(long now) {
            return now - lastSeenNanos > thresholdNanos;
        }

        @Override
        public Endpoint endpoint() {
            return endpoint;
        }

        @Override
        public int inFlight() {
            return state.inFlight.get();
        }

        @Override
        public boolean tryAcquire() {
            if (maxConns <= 0) {
                state.inFlight.incrementAndGet();
                return true;
            }
            while (true) {
                int n = state.inFlight.get();
                if (n >= maxConns) {
                    return false;
                }
                if (state.inFlight.compareAndSet(n, n + 1)) {
                    return true;
                }
            }
        }

        @Override
        public void release() {
            state.inFlight.decrementAndGet();
        }

        @Override
        public void markFailed() {
            state.failedUntilNanos = ticker.read() + failurePeriodNanos;
        }

        @Override
        public boolean isFailed() {
            long until = state.failedUntilNanos;
            return until != Long.MIN_VALUE && ticker.read() - until < 0;
        }

        boolean atLimit() {
            return maxConns > 0 && state.inFlight.get() >= maxConns;
        }

        @Override
        public String toString() {
            return endpoint.address();
        }
    }

    final class Pool implements Route {
        final RouteKey key;
        final Member[] members;
        final LoadBalancing loadBalancing;
        final AtomicInteger next;

        Pool(RouteKey key, Member[] members, LoadBalancing loadBalancing) {
            this.key = key;
            this.members = members;
            this.loadBalancing = loadBalancing;
            this.next = new AtomicInteger(ThreadLocalRandom.current().nextInt(members.length));
        }

        int indexOf(String address) {
            for (int i = 0; i < members.length; i++) {
                if (members[i].endpoint.address().equals(address)) {
                    return i;
                }
            }
            return -1;
        }

        boolean hasStale(long now) {
            for (Member m : members) {
                if (m.isStale(now)) {
                    return true;
                }
            }
            return false;
        }

        @Override
        public RouteKey key() {
            return key;
        }

        @Override
        public List<RouteEndpoint> endpoints() {
            return List.of(members);
        }

        @Override
        public EndpointIterator iterator(String stickyInstanceId) {
            return new Attempts(this, stickyInstanceId);
        }
    }

    /** One request's walk over a pool. */
    final class Attempts implements EndpointIterator {
        private final Pool pool;
        private final boolean[] tried;
        private String sticky;
        private boolean limitReached;

        Attempts(Pool pool, String sticky) {
            this.pool = pool;
            this.tried = new boolean[pool.members.length];
            this.sticky = sticky == null || sticky.isEmpty() ? null : sticky;
        }

        @Override
        public RouteEndpoint next() {
            limitReached = false;
            Member[] members = pool.members;
            if (sticky != null) {
                String id = sticky;
                sticky = null;
                for (int i = 0; i < members.length; i++) {
                    if (!tried[i] && id.equals(members[i].endpoint.instanceId())) {
                        if (members[i].tryAcquire()) {
                            tried[i] = true;
                            return members[i];
                        }
                        break;
                    }
                }
            }
            boolean anyHealthyUntried = false;
            boolean anyUntried = false;
            for (int i = 0; i < members.length; i++) {
                if (!tried[i]) {
                    anyUntried = true;
                    if (!members[i].isFailed()) {
                        anyHealthyUntried = true;
                    }
                }
            }
            if (!anyUntried) {
                return null;
            }
            if (!anyHealthyUntried) {
                // Every candidate is marked failed: clear the marks and try them anyway.
                for (int i = 0; i < members.length; i++) {
                    if (!tried[i]) {
                        members[i].state.failedUntilNanos = Long.MIN_VALUE;
                    }
                }
            }
            int chosen = pool.loadBalancing == LoadBalancing.LEAST_CONNECTION ? leastConnection(members)
                    : roundRobin(members);
            if (chosen < 0) {
                limitReached = true;
                return null;
            }
            tried[chosen] = true;
            return members[chosen];
        }

        private int roundRobin(Member[] members) {
            int n = members.length;
            int start = Math.floorMod(pool.next.getAndIncrement(), n);
            for (int k = 0; k < n; k++) {
                int i = (start + k) % n;
                if (!tried[i] && !members[i].isFailed() && members[i].tryAcquire()) {
                    return i;
                }
            }
            return -1;
        }

        private int leastConnection(Member[] members) {
            while (true) {
                int best = -1;
                int bestLoad = Integer.MAX_VALUE;
                int ties = 0;
                for (int i = 0; i < members.length; i++) {
                    Member m = members[i];
                    if (tried[i] || m.isFailed() || m.atLimit()) {
                        continue;
                    }
                    int load = m.inFlight();
                    if (load < bestLoad) {
                        best = i;
                        bestLoad = load;
                        ties = 1;
                    } else if (load == bestLoad && ThreadLocalRandom.current().nextInt(++ties) == 0) {
                        best = i;
                    }
                }
                if (best < 0) {
                    return -1;
                }
                if (members[best].tryAcquire()) {
                    return best;
                }
            }
        }

        @Override
        public boolean connectionLimitReached() {
            return limitReached;
        }
    }
}
