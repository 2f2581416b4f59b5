package io.cfrouter.registry;

import io.cfrouter.core.Endpoint;
import io.cfrouter.core.LoadBalancing;
import io.cfrouter.core.RouteKey;
import io.cfrouter.core.Ticker;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.io.ByteArrayOutputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The routing table: a {@link KeyTable} of hosts, each with its host-only route and, if it has any, a
 * {@link KeyTable} of path routes. A route ({@link Pool}) is a stable object whose member array is
 * replaced on change, so its round-robin position survives new members and a lookup never sees a
 * half-built pool.
 *
 * <p>Lookups take no lock and allocate nothing on a hit (a path with a {@code %} escape is decoded into a
 * new string first). Writers (register, unregister, prune, resume) serialise on one lock and tell
 * listeners after releasing it. The prune sweep takes the lock one host at a time, so writers interleave.
 */
final class DefaultRouteRegistry implements RouteRegistry {

    private static final Logger LOGGER = LogManager.getLogger();
    private static final Member[] NO_MEMBERS = new Member[0];

    private final Ticker ticker;
    private final long staleThresholdNanos;
    private final long failurePeriodNanos;
    private final LoadBalancing defaultLoadBalancing;
    private final int maxConns;

    private final KeyTable<HostNode> hosts = new KeyTable<>();
    private final EndpointState.Table states = new EndpointState.Table();
    private final EndpointCanonicaliser canonicaliser = new EndpointCanonicaliser();
    private final ReentrantLock writeLock = new ReentrantLock();
    private final List<RegistryListener> listeners = new CopyOnWriteArrayList<>();

    private volatile int routeCount;
    private volatile int endpointCount;
    private volatile int wildcardHosts;
    private int orphanStates;
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
        if (host == null) {
            return null;
        }
        if (path != null && path.indexOf('%') >= 0) {
            path = decodePath(path);
            if (path == null) {
                return null;
            }
        }
        return lookupDecoded(host, path);
    }

    private Route lookupDecoded(String host, String path) {
        int from = 0;
        int to = host.length();
        while (from < to && host.charAt(from) <= ' ') {
            from++;
        }
        while (to > from && host.charAt(to - 1) <= ' ') {
            to--;
        }
        if (from == to) {
            return null;
        }
        boolean ipv6 = host.charAt(from) == '[';
        if (ipv6) {
            int close = host.indexOf(']', from);
            if (close < 0 || close >= to) {
                return null;
            }
            to = close + 1;
        } else {
            int colon = host.indexOf(':', from);
            if (colon >= 0 && colon < to) {
                if (host.lastIndexOf(':', to - 1) != colon) {
                    // A bare IPv6 literal: keys hold it in brackets. Rare enough to allocate.
                    return lookupDecoded("[" + host.substring(from, to) + "]", path);
                }
                to = colon;
            }
        }
        if (from == to) {
            return null;
        }
        Pool pool = matchHost(host, from, to, false, path);
        if (pool != null || ipv6 || wildcardHosts == 0) {
            return pool;
        }
        for (int dot = host.indexOf('.', from); dot >= 0 && dot < to; dot = host.indexOf('.', dot + 1)) {
            pool = matchHost(host, dot, to, true, path);
            if (pool != null) {
                return pool;
            }
        }
        return null;
    }

    /** The route for {@code path} under the host {@code [*]src[from, to)}, or {@code null}. */
    private Pool matchHost(String src, int from, int to, boolean star, String path) {
        HostNode node = hosts.find(src, from, to, KeyTable.hash(star ? '*' : 0, src, from, to), star);
        if (node == null) {
            return null;
        }
        KeyTable<Pool> paths = node.paths;
        if (paths != null && path != null) {
            Pool pool = matchPath(paths, node.maxPathLength, path);
            if (pool != null) {
                return pool;
            }
        }
        return node.isLive() ? node : null;
    }

    /** The longest route in {@code paths} that is a whole-segment prefix of {@code path}, or {@code null}. */
    private static Pool matchPath(KeyTable<Pool> paths, int maxLength, String path) {
        int from = 0;
        int end = path.length();
        int query = path.indexOf('?');
        if (query >= 0) {
            end = query;
        }
        while (from < end && path.charAt(from) == '/') {
            from++;
        }
        while (end > from && path.charAt(end - 1) == '/') {
            end--;
        }
        Pool best = null;
        int h = 0;
        for (int i = from; i < end; i++) {
            char c = path.charAt(i);
            if (c == '/') {
                if (i - from > maxLength) {
                    return best;
                }
                Pool pool = paths.find(path, from, i, h, false);
                if (pool != null && pool.isLive()) {
                    best = pool;
                }
            }
            h = 31 * h + KeyTable.lower(c);
        }
        if (end > from && end - from <= maxLength) {
            Pool pool = paths.find(path, from, end, h, false);
            if (pool != null && pool.isLive()) {
                best = pool;
            }
        }
        return best;
    }

    /**
     * {@code path} (up to any query) with its {@code %XX} escapes decoded as UTF-8, or {@code null} when an
     * escape is malformed: such a request matches nothing.
     */
    static String decodePath(String path) {
        int end = path.indexOf('?');
        if (end < 0) {
            end = path.length();
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(end);
        StringBuilder out = new StringBuilder(end);
        for (int i = 0; i < end; i++) {
            char c = path.charAt(i);
            if (c == '%') {
                if (i + 2 >= end) {
                    return null;
                }
                int hi = Character.digit(path.charAt(i + 1), 16);
                int lo = Character.digit(path.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    return null;
                }
                bytes.write(hi << 4 | lo);
                i += 2;
            } else {
                if (bytes.size() > 0) {
                    out.append(bytes.toString(StandardCharsets.UTF_8));
                    bytes.reset();
                }
                out.append(c);
            }
        }
        if (bytes.size() > 0) {
            out.append(bytes.toString(StandardCharsets.UTF_8));
        }
        return out.toString();
    }

    // ---- writes -------------------------------------------------------------------------------------

    @Override
    public void register(RouteKey key, Endpoint endpoint) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(endpoint, "endpoint");
        long now = ticker.read();
        List<RegistryEvent> events = null;
        writeLock.lock();
        try {
            events = listeners.isEmpty() ? null : new ArrayList<>(2);
            String k = key.key();
            int slash = k.indexOf('/');
            HostNode host = hostOf(k, slash);
            Pool pool = host == null ? null : host.route(k, slash);
            LoadBalancing balancing = endpoint.loadBalancing() != null ? endpoint.loadBalancing()
                    : defaultLoadBalancing;
            if (pool == null) {
                boolean newHost = host == null;
                if (newHost) {
                    host = new HostNode(RouteKey.lowerCase(slash < 0 ? k : k.substring(0, slash)));
                }
                pool = slash < 0 ? host : new Pool(RouteKey.lowerCase(k.substring(slash + 1)));
                pool.routeKey = key;
                pool.loadBalancing = balancing;
                pool.members = new Member[] {newMember(endpoint, now)};
                if (pool != host) {
                    host.addPath(pool);
                }
                if (newHost) {
                    hosts.put(host);
                    if (host.key.startsWith("*.")) {
                        wildcardHosts++;
                    }
                }
                routeCount++;
                add(events, RegistryEvent.Type.ROUTE_ADDED, pool.routeKey, null);
                add(events, RegistryEvent.Type.ENDPOINT_ADDED, pool.routeKey, endpoint);
            } else {
                pool.loadBalancing = balancing;
                Member[] members = pool.members;
                int i = indexOf(members, endpoint.host(), endpoint.port());
                if (i < 0) {
                    Member[] grown = Arrays.copyOf(members, members.length + 1);
                    grown[members.length] = newMember(endpoint, now);
                    pool.members = grown;
                    add(events, RegistryEvent.Type.ENDPOINT_ADDED, pool.routeKey, endpoint);
                } else if (members[i].endpoint.equals(endpoint)) {
                    members[i].touch(now);
                } else {
                    members[i].update(canonicaliser.canonical(endpoint), now);
                    add(events, RegistryEvent.Type.ENDPOINT_UPDATED, pool.routeKey, endpoint);
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
        List<RegistryEvent> events = null;
        writeLock.lock();
        try {
            events = listeners.isEmpty() ? null : new ArrayList<>(2);
            String k = key.key();
            int slash = k.indexOf('/');
            HostNode host = hostOf(k, slash);
            Pool pool = host == null ? null : host.route(k, slash);
            if (pool == null) {
                return;
            }
            Member[] members = pool.members;
            for (int i = 0; i < members.length; i++) {
                if (members[i].state.hasAddress(address)) {
                    removeMember(host, pool, i, RegistryEvent.Type.ENDPOINT_REMOVED, events);
                    lastUpdateNanos = ticker.read();
                    break;
                }
            }
        } finally {
            writeLock.unlock();
        }
        fire(events);
    }

    /** The node of the host of key {@code k} (whose first {@code /} is at {@code slash}), or {@code null}. */
    private HostNode hostOf(String k, int slash) {
        int hostEnd = slash < 0 ? k.length() : slash;
        return hosts.find(k, 0, hostEnd, KeyTable.hash(0, k, 0, hostEnd), false);
    }

    private static int indexOf(Member[] members, String host, int port) {
        // Through the endpoint, not the shared state: a re-registration reads the endpoint next anyway.
        for (int i = 0; i < members.length; i++) {
            Endpoint e = members[i].endpoint;
            if (e.port() == port && e.host().equals(host)) {
                return i;
            }
        }
        return -1;
    }

    /** Caller holds the write lock. */
    private Member newMember(Endpoint registered, long now) {
        Endpoint endpoint = canonicaliser.canonical(registered);
        EndpointState state = states.get(endpoint.host(), endpoint.port());
        if (state == null) {
            state = new EndpointState(endpoint.host(), endpoint.port());
            states.add(state);
        } else if (state.references == 0) {
            orphanStates--;
        }
        if (state.references++ == 0) {
            endpointCount++;
        }
        return new Member(state, endpoint, now);
    }

    /** Caller holds the write lock. */
    private void removeMember(HostNode host, Pool pool, int i, RegistryEvent.Type type, List<RegistryEvent> events) {
        Member[] members = pool.members;
        Member gone = members[i];
        add(events, type, pool.routeKey, gone.endpoint);
        if (--gone.state.references == 0) {
            endpointCount--;
            if (gone.state.inFlight() == 0) {
                states.remove(gone.state);
            } else {
                // Requests still hold it: keep its count in case the address comes back; dropped later.
                orphanStates++;
            }
        }
        if (members.length > 1) {
            Member[] shrunk = new Member[members.length - 1];
            System.arraycopy(members, 0, shrunk, 0, i);
            System.arraycopy(members, i + 1, shrunk, i, shrunk.length - i);
            pool.members = shrunk;
            return;
        }
        pool.members = NO_MEMBERS;
        if (pool != host) {
            host.removePath(pool);
        }
        routeCount--;
        if (host.isEmpty()) {
            hosts.remove(host.key);
            if (host.key.startsWith("*.")) {
                wildcardHosts--;
            }
        }
        add(events, RegistryEvent.Type.ROUTE_REMOVED, pool.routeKey, null);
    }

    private static void add(List<RegistryEvent> events, RegistryEvent.Type type, RouteKey key, Endpoint endpoint) {
        if (events != null) {
            events.add(new RegistryEvent(type, key, endpoint));
        }
    }

    @Override
    public int pruneStale(long nowNanos) {
        if (pruningSuspended) {
            return 0;
        }
        int pruned = 0;
        List<RegistryEvent> events = new ArrayList<>();
        for (KeyTable.Node n : hosts.slotsForSweep()) {
            if (!(n instanceof HostNode host) || !host.hasStaleRoutes(nowNanos)) {
                continue;
            }
            writeLock.lock();
            try {
                if (pruningSuspended) {
                    break;
                }
                boolean tell = !listeners.isEmpty();
                for (Pool pool : host.pools()) {
                    Member[] members = pool.members;
                    for (int i = members.length - 1; i >= 0; i--) {
                        if (members[i].isStale(nowNanos)) {
                            removeMember(host, pool, i, RegistryEvent.Type.ENDPOINT_PRUNED, tell ? events : null);
                            pruned++;
                        }
                    }
                }
                lastUpdateNanos = nowNanos;
            } finally {
                writeLock.unlock();
            }
            fire(events);
            events.clear();
        }
        if (orphanStates > 0) {
            writeLock.lock();
            try {
                states.removeOrphans();
                orphanStates = 0;
            } finally {
                writeLock.unlock();
            }
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
            for (KeyTable.Node n : hosts.slotsForSweep()) {
                if (n instanceof HostNode host) {
                    for (Pool pool : host.pools()) {
                        for (Member m : pool.members) {
                            m.touch(now);
                        }
                    }
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
        Objects.requireNonNull(listener, "listener");
        // Under the write lock, so every change made after this returns is reported to it.
        writeLock.lock();
        try {
            listeners.add(listener);
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public void removeListener(RegistryListener listener) {
        listeners.remove(listener);
    }

    private void fire(List<RegistryEvent> events) {
        if (events == null) {
            return;
        }
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
        return routeCount;
    }

    @Override
    public int endpointCount() {
        return endpointCount;
    }

    @Override
    public long lastUpdateNanos() {
        return lastUpdateNanos;
    }

    @Override
    public Map<RouteKey, List<RouteEndpoint>> snapshot() {
        List<Pool> pools = new ArrayList<>();
        writeLock.lock();
        try {
            for (KeyTable.Node n : hosts.slotsForSweep()) {
                if (n instanceof HostNode host) {
                    pools.addAll(host.pools());
                }
            }
            Map<RouteKey, List<RouteEndpoint>> copy = new LinkedHashMap<>();
            pools.sort(Comparator.comparing(p -> p.routeKey.key()));
            for (Pool pool : pools) {
                copy.put(pool.routeKey, List.of(pool.members));
            }
            return Collections.unmodifiableMap(copy);
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public long staleAtNanos(RouteKey route, RouteEndpoint endpoint) {
        if (endpoint instanceof Member m) {
            return m.staleAtNanos;
        }
        Objects.requireNonNull(endpoint, "endpoint");
        throw new IllegalArgumentException("endpoint: " + endpoint + " (expected: one from this registry)");
    }

    // ---- hosts, routes and members ------------------------------------------------------------------

    /**
     * One host: itself the pool of its host-only route (with no members while it has none), plus its path
     * routes. Fields are written under the write lock.
     */
    final class HostNode extends Pool {
        volatile KeyTable<Pool> paths;
        /** The longest path key ever added here (an upper bound lets a lookup stop early). */
        volatile int maxPathLength;

        HostNode(String hostKey) {
            super(hostKey);
        }

        /** The live route with {@code key}, whose host is this one: host-only if {@code slash < 0}. */
        Pool route(String key, int slash) {
            if (slash < 0) {
                return members.length > 0 ? this : null;
            }
            KeyTable<Pool> table = paths;
            int from = slash + 1;
            return table == null ? null
                    : table.find(key, from, key.length(), KeyTable.hash(0, key, from, key.length()), false);
        }

        void addPath(Pool pool) {
            KeyTable<Pool> table = paths;
            if (table == null) {
                table = new KeyTable<>();
            }
            table.put(pool);
            maxPathLength = Math.max(maxPathLength, pool.key.length());
            paths = table;
        }

        void removePath(Pool pool) {
            KeyTable<Pool> table = paths;
            table.remove(pool.key);
            if (table.size() == 0) {
                paths = null;
                maxPathLength = 0;
            }
        }

        boolean isEmpty() {
            return members.length == 0 && paths == null;
        }

        /** The live routes of this host. */
        List<Pool> pools() {
            List<Pool> pools = new ArrayList<>(1);
            if (members.length > 0) {
                pools.add(this);
            }
            KeyTable<Pool> table = paths;
            if (table != null) {
                for (KeyTable.Node n : table.slotsForSweep()) {
                    if (n instanceof Pool p) {
                        pools.add(p);
                    }
                }
            }
            return pools;
        }

        boolean hasStaleRoutes(long now) {
            if (hasStale(now)) {
                return true;
            }
            KeyTable<Pool> table = paths;
            if (table != null) {
                for (KeyTable.Node n : table.slotsForSweep()) {
                    if (n instanceof Pool p && p.hasStale(now)) {
                        return true;
                    }
                }
            }
            return false;
        }
    }

    /**
     * A route: its key, its members and its round-robin position. The object lives as long as the route;
     * {@link #members} is replaced (never changed in place) under the write lock. Its table key is the
     * lower-case path (or, for a {@link HostNode}, the host).
     */
    class Pool extends KeyTable.Node implements Route {
        private static final VarHandle NEXT;

        static {
            try {
                NEXT = MethodHandles.lookup().findVarHandle(Pool.class, "next", int.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        /** Set before {@link #members} whenever the route (re)appears. */
        volatile RouteKey routeKey;
        volatile Member[] members = NO_MEMBERS;
        volatile LoadBalancing loadBalancing = defaultLoadBalancing;
        private volatile int next = ThreadLocalRandom.current().nextInt();

        Pool(String tableKey) {
            super(tableKey);
        }

        /**
         * The index to start a round-robin walk at, moving the position on by one. The position is an index,
         * not a counter taken modulo the size, so a member joining or leaving does not make it jump.
         */
        int nextIndex(int n) {
            while (true) {
                int current = next;
                int start = current >= 0 && current < n ? current : Math.floorMod(current, n);
                if (NEXT.compareAndSet(this, current, start + 1)) {
                    return start;
                }
            }
        }

        /**
         * Whether the route has members. An empty pool always holds {@link #NO_MEMBERS}, so this compares a
         * reference and spares a lookup the cache miss of reading the array.
         */
        boolean isLive() {
            return members != NO_MEMBERS;
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
            return routeKey;
        }

        @Override
        public List<RouteEndpoint> endpoints() {
            return List.of(members);
        }

        @Override
        public EndpointIterator iterator(String stickyInstanceId) {
            return new Attempts(this, stickyInstanceId);
        }

        @Override
        public String toString() {
            return key + Arrays.toString(members);
        }
    }

    /** One endpoint in one route: its registration and staleness clock, with the address's live state. */
    final class Member implements RouteEndpoint {
        final EndpointState state;
        volatile Endpoint endpoint;
        /** When the member goes stale unless it registers again: last registration plus its threshold. */
        volatile long staleAtNanos;

        Member(EndpointState state, Endpoint endpoint, long now) {
            this.state = state;
            update(endpoint, now);
        }

        /** Caller holds the write lock. */
        void update(Endpoint registered, long now) {
            this.endpoint = registered;
            touch(now);
        }

        /** Restarts the staleness clock. Caller holds the write lock. */
        void touch(long now) {
            long own = endpoint.staleThreshold().toNanos();
            staleAtNanos = now + (own <= 0 || own > staleThresholdNanos ? staleThresholdNanos : own);
        }

        boolean isStale(long now) {
            return now - staleAtNanos > 0;
        }

        @Override
        public Endpoint endpoint() {
            return endpoint;
        }

        @Override
        public int inFlight() {
            return state.inFlight();
        }

        @Override
        public boolean tryAcquire() {
            return state.tryAcquire(maxConns);
        }

        @Override
        public void release() {
            state.release();
        }

        @Override
        public void markFailed() {
            state.failedUntilNanos = ticker.read() + failurePeriodNanos;
        }

        @Override
        public boolean isFailed() {
            return state.isFailed(ticker.read());
        }

        @Override
        public String toString() {
            return endpoint.address();
        }
    }

    /** One request's walk over a route's members as they were when it began. */
    final class Attempts implements EndpointIterator {
        private final Pool pool;
        private final Member[] members;
        private final boolean[] tried;
        private int untried;
        private String sticky;
        private boolean limitReached;

        Attempts(Pool pool, String sticky) {
            this.pool = pool;
            this.members = pool.members;
            this.tried = new boolean[members.length];
            this.untried = members.length;
            this.sticky = sticky == null || sticky.isEmpty() ? null : sticky;
        }

        @Override
        public RouteEndpoint next() {
            limitReached = false;
            if (untried == 0) {
                return null;
            }
            long now = ticker.read();
            if (sticky != null) {
                String id = sticky;
                sticky = null;
                for (int i = 0; i < members.length; i++) {
                    Member m = members[i];
                    if (!tried[i] && id.equals(m.endpoint.instanceId())) {
                        if (!m.state.isFailed(now) && m.tryAcquire()) {
                            return take(i);
                        }
                        break;
                    }
                }
            }
            boolean anyHealthy = false;
            for (int i = 0; i < members.length && !anyHealthy; i++) {
                anyHealthy = !tried[i] && !members[i].state.isFailed(now);
            }
            if (!anyHealthy) {
                // Every endpoint left is marked failed: clear the marks and try them anyway.
                for (int i = 0; i < members.length; i++) {
                    if (!tried[i]) {
                        members[i].state.failedUntilNanos = EndpointState.NOT_FAILED;
                    }
                }
            }
            int chosen = pool.loadBalancing == LoadBalancing.LEAST_CONNECTION ? leastConnection(now)
                    : roundRobin(now);
            if (chosen < 0) {
                limitReached = true;
                return null;
            }
            return take(chosen);
        }

        private Member take(int i) {
            tried[i] = true;
            untried--;
            return members[i];
        }

        private boolean candidate(int i, long now) {
            return !tried[i] && !members[i].state.isFailed(now);
        }

        private int roundRobin(long now) {
            int n = members.length;
            int start = pool.nextIndex(n);
            for (int k = 0; k < n; k++) {
                int i = start + k < n ? start + k : start + k - n;
                if (candidate(i, now) && members[i].tryAcquire()) {
                    return i;
                }
            }
            return -1;
        }

        private int leastConnection(long now) {
            while (true) {
                int best = -1;
                int bestLoad = Integer.MAX_VALUE;
                int ties = 0;
                for (int i = 0; i < members.length; i++) {
                    if (!candidate(i, now) || members[i].state.atLimit(maxConns)) {
                        continue;
                    }
                    int load = members[i].inFlight();
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
