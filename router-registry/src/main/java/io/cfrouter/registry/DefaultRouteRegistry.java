package io.cfrouter.registry;

import io.cfrouter.core.Endpoint;
import io.cfrouter.core.LoadBalancing;
import io.cfrouter.core.PerThread;
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
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The routing table: a {@link KeyTable} of every host key and every {@code host/path} key, each with its
 * route ({@link Pool}). A route is a stable object whose member array is replaced on change, so its
 * round-robin position survives new members and a lookup never sees a half-built pool.
 *
 * <p>Lookups take no lock and allocate nothing on a hit (a path with a {@code %} escape is decoded into a
 * new string first). They probe only what can exist: a host's table entry carries the set of segment counts
 * of the path keys under it, and the registry keeps the set of label counts of its wildcard domains, so a
 * request probes a path prefix or a wildcard suffix only at a depth that some key has. A host whose hash
 * falls in a bucket of hosts with path routes ({@link #pathHosts}) has its path keys probed first, at the
 * depths any host has, so that a path route costs one probe rather than the host's and then the path's (each a
 * cache miss in a large table); without a match it goes on as any host. Writers (register,
 * unregister, prune, resume) serialise on one lock and tell listeners after releasing it. The prune sweep
 * takes the lock one route at a time, so writers interleave.
 */
final class DefaultRouteRegistry implements RouteRegistry {

    private static final Logger LOGGER = LogManager.getLogger();
    private static final Member[] NO_MEMBERS = new Member[0];
    /** Depths from this one up share the last bit of a depth set. */
    private static final int LAST_PATH_DEPTH = KeyTable.PATH_DEPTHS;
    private static final int LAST_WILDCARD_DEPTH = 63;
    /** Buckets of host hashes in {@link #pathHosts}: a power of two, 64 or more. */
    private static final int PATH_HOST_BUCKETS = 1 << 15;

    private final Ticker ticker;
    private final long staleThresholdNanos;
    private final long failurePeriodNanos;
    private final LoadBalancing defaultLoadBalancing;
    private final int maxConns;

    private final KeyTable<Pool> table = new KeyTable<>(Pool[]::new);
    /** The writers' prepared keys (under the write lock): an update's route key, and its host's. */
    private final KeyTable.Key writeKey = new KeyTable.Key();
    private final KeyTable.Key writeHost = new KeyTable.Key();
    /**
     * For each host with path routes, how many there are of each segment count (index 1-16, 16 counting
     * every deeper one too): what keeps the host's depth set in {@link #table} exact. Under the write lock.
     */
    private final Map<String, int[]> pathDepthCounts = new HashMap<>();
    /** For each segment count (index 1-16, as above), how many hosts have path routes of it. Under the write lock. */
    private final int[] pathDepthHosts = new int[LAST_PATH_DEPTH + 1];
    /**
     * Bit n - 1 set when {@link #pathDepthHosts}[n] > 0: every depth some host has, so a superset of any one
     * host's depth set. Set before a host's path key goes into the table, cleared after the last one of that
     * depth left it, so that a lookup that reads it and then finds a path key deeper than it says cannot be.
     */
    private volatile int pathDepths;
    /** How many hosts with path routes each bucket of host hashes has ({@link #pathHostBucket}); under the lock. */
    private final int[] pathHostCounts = new int[PATH_HOST_BUCKETS];
    /**
     * Bit b set when {@link #pathHostCounts}[b] > 0: a host whose hash falls in a bucket without a bit has no
     * path routes. Read without ordering: only a hint (see {@link #lookupDecoded}), which no value can make
     * give a wrong answer.
     */
    private final long[] pathHosts = new long[PATH_HOST_BUCKETS / 64];
    /** How many wildcard hosts ({@code *.} plus n labels) the table has for each n (63 counts every n > 63). */
    private final int[] wildcardDepthCounts = new int[LAST_WILDCARD_DEPTH + 1];
    /** Bit n set when {@link #wildcardDepthCounts}[n] > 0: the wildcard suffixes a lookup may probe. */
    private volatile long wildcardDepths;
    private final EndpointState.Table states = new EndpointState.Table();
    private final EndpointCanonicaliser canonicaliser = new EndpointCanonicaliser();
    private final ReentrantLock writeLock = new ReentrantLock();
    private final List<RegistryListener> listeners = new CopyOnWriteArrayList<>();

    private volatile int routeCount;
    private volatile int endpointCount;
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
        int escape;
        // An escape only in the query (a '?' before it) is not decoded: the query takes no part in matching.
        if (path != null && (escape = path.indexOf('%')) >= 0 && path.lastIndexOf('?', escape) < 0) {
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
        RequestBytes request = REQUEST_BYTES.get();
        byte[] b = request.room(request.bytes, 0, (to - from) * KeyTable.MAX_BYTES_PER_CHAR + KeyTable.PADDING);
        int n = KeyTable.lowerInto(host, from, to, b, 0);
        int hash = KeyTable.hash(b, 0, n);
        Pool pool;
        int depths;
        if (path != null && (depths = pathDepths) != 0 && inPathHostBucket(hash)) {
            // The host may have path routes: probe its path keys first, at every depth some host has (deepest
            // match wins, and pathDepths holds each host's depths), without waiting for the host's own slot.
            // No match: the host's route, or the wildcards', as below (which probes the host's depths again).
            pool = matchPath(table, depths, false, request, b, 0, n, path);
            if (pool != null) {
                return pool;
            }
        }
        pool = match(table, hash, false, request, b, 0, n, path);
        long wildcards = wildcardDepths;
        if (pool != null || ipv6 || wildcards == 0) {
            return pool;
        }
        // The j-th dot (from 0) starts the suffix *.<labels>, with (dots - j) labels: nearest first. A '.'
        // byte is always the character (see KeyTable.lowerInto).
        int labels = 0;
        for (int i = 0; i < n; i++) {
            if (b[i] == '.') {
                labels++;
            }
        }
        for (int dot = 0; dot < n; dot++) {
            if (b[dot] != '.') {
                continue;
            }
            int depth = Math.min(labels--, LAST_WILDCARD_DEPTH);
            if ((wildcards & -1L >>> (LAST_WILDCARD_DEPTH - depth)) == 0) {
                return null; // no wildcard this deep or shallower
            }
            if ((wildcards & 1L << depth) != 0) {
                pool = match(table, KeyTable.starHash(b, dot, n), true, request, b, dot, n, path);
                if (pool != null) {
                    return pool;
                }
            }
        }
        return null;
    }

    /**
     * The route for {@code path} under the host key {@code [*]b[from, to)} (the request's bytes) whose hash
     * is {@code hash}: the longest path route that matches, else the host's own route; or {@code null}.
     * A path's bytes go after {@code to}, so {@code b[0, to)} stays as it is.
     */
    private static Pool match(KeyTable<Pool> table, int hash, boolean star, RequestBytes request, byte[] b,
                              int from, int to, String path) {
        KeyTable.Arrays a = table.arrays(hash);
        for (int i = KeyTable.candidate(a, hash, KeyTable.home(a, hash)); i >= 0;
             i = KeyTable.candidate(a, hash, KeyTable.next(a, i))) {
            // Read before the comparison, so that its cache miss overlaps the key's.
            Pool route = route(a, i);
            if (KeyTable.keyAt(a, i, star, b, from, to)) {
                if (path != null) {
                    int depths = KeyTable.pathDepths(a, i);
                    if (depths != 0) {
                        Pool pool = matchPath(table, depths, star, request, b, from, to, path);
                        if (pool != null) {
                            return pool;
                        }
                    }
                }
                return route;
            }
        }
        return null;
    }

    /**
     * The longest route under the host key {@code [*]b[from, to)} whose path is a whole-segment prefix of
     * {@code path}, probing only the segment counts in {@code depths}; or {@code null}. Writes the path's
     * bytes after the host's.
     */
    private static Pool matchPath(KeyTable<Pool> table, int depths, boolean star, RequestBytes request,
                                  byte[] host, int from, int to, String path) {
        int start = 0;
        int end = path.indexOf('?');
        if (end < 0) {
            end = path.length();
        }
        while (start < end && path.charAt(start) == '/') {
            start++;
        }
        while (end > start && path.charAt(end - 1) == '/') {
            end--;
        }
        if (end == start) {
            return null;
        }
        int deepest = 32 - Integer.numberOfLeadingZeros(depths); // bit n - 1 stands for n segments
        byte[] b = request.room(host, to, to + 1 + (end - start) * KeyTable.MAX_BYTES_PER_CHAR + KeyTable.PADDING);
        b[to] = '/';
        int at = to + 1;
        Pool best = null;
        int segments = 1;
        for (int i = start; ; ) {
            int slash = path.indexOf('/', i);
            if (slash < 0 || slash > end) {
                slash = end;
            }
            at = KeyTable.lowerInto(path, i, slash, b, at);
            if ((depths & 1 << segments - 1) != 0) {
                best = probe(table, star, b, from, at, best);
            }
            if (slash == end || segments < LAST_PATH_DEPTH && ++segments > deepest) {
                return best;
            }
            b[at++] = '/';
            i = slash + 1;
        }
    }

    private static Pool probe(KeyTable<Pool> table, boolean star, byte[] b, int from, int to, Pool best) {
        int hash = star ? KeyTable.starHash(b, from, to) : KeyTable.hash(b, from, to);
        KeyTable.Arrays a = table.arrays(hash);
        for (int i = KeyTable.candidate(a, hash, KeyTable.home(a, hash)); i >= 0;
             i = KeyTable.candidate(a, hash, KeyTable.next(a, i))) {
            Pool pool = route(a, i); // read before the comparison, as in match
            if (KeyTable.keyAt(a, i, star, b, from, to)) {
                return pool != null ? pool : best;
            }
        }
        return best;
    }

    /**
     * The route in slot {@code i} of {@code a}, read as {@link KeyTable#route} reads it (acquire), but from
     * the table's {@code Pool[]} as such: no type check of the route, which would read the object's header,
     * a cache miss at 100 000 routes that the lookup would wait for though it only returns the route.
     */
    private static Pool route(KeyTable.Arrays a, int i) {
        Pool route = ((Pool[]) a.routes)[i];
        VarHandle.acquireFence();
        return route;
    }

    /** Each thread's buffer for the bytes of the request it looks up (see KeyTable.lowerInto). */
    private static final PerThread<RequestBytes> REQUEST_BYTES = PerThread.withInitial(RequestBytes::new);

    /**
     * A thread's buffer for lookups: grows to the longest request the thread saw, up to {@link #KEPT} bytes;
     * a longer request gets an array of its own.
     */
    static final class RequestBytes {
        private static final int KEPT = 16 * 1024;
        byte[] bytes = new byte[512];

        /** {@code b}, or a copy of its first {@code used} bytes with room for {@code room}, if it has less. */
        byte[] room(byte[] b, int used, int room) {
            if (b.length >= room) {
                return b;
            }
            byte[] grown = new byte[room <= KEPT ? Math.max(room, Math.min(KEPT, b.length * 2)) : room];
            System.arraycopy(b, 0, grown, 0, used);
            if (room <= KEPT) {
                bytes = grown;
            }
            return grown;
        }
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
            String k = lowerKey(key);
            KeyTable.Key kk = KeyTable.prepare(writeKey, k);
            Pool pool = table.route(kk);
            LoadBalancing balancing = endpoint.loadBalancing() != null ? endpoint.loadBalancing()
                    : defaultLoadBalancing;
            if (pool == null) {
                pool = new Pool(key, balancing);
                pool.members = newMember(endpoint, now);
                addRoute(k, kk, pool);
                routeCount++;
                add(events, RegistryEvent.Type.ROUTE_ADDED, pool.routeKey, null);
                add(events, RegistryEvent.Type.ENDPOINT_ADDED, pool.routeKey, endpoint);
            } else {
                if (pool.loadBalancing != balancing) {
                    // Stored only when it changes: a store of a reference into the old pool is a full fence
                    // (volatile) and dirties a card that G1's refinement threads must then scan, on every
                    // re-registration that changes nothing.
                    pool.loadBalancing = balancing;
                }
                Object members = pool.members;
                int i = indexOf(members, endpoint.host(), endpoint.port());
                if (i < 0) {
                    int n = count(members);
                    Member[] grown = new Member[n + 1];
                    for (int j = 0; j < n; j++) {
                        grown[j] = at(members, j);
                    }
                    grown[n] = newMember(endpoint, now);
                    pool.members = grown;
                    add(events, RegistryEvent.Type.ENDPOINT_ADDED, pool.routeKey, endpoint);
                } else if (at(members, i).endpoint.equals(endpoint)) {
                    at(members, i).touch(now);
                } else {
                    at(members, i).update(canonicaliser.canonical(endpoint), now);
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
            String k = lowerKey(key);
            KeyTable.Key kk = KeyTable.prepare(writeKey, k);
            Pool pool = table.route(kk);
            if (pool == null) {
                return;
            }
            Object members = pool.members;
            for (int i = 0, n = count(members); i < n; i++) {
                if (at(members, i).state.hasAddress(address)) {
                    removeMember(k, kk, pool, i, RegistryEvent.Type.ENDPOINT_REMOVED, events);
                    lastUpdateNanos = ticker.read();
                    break;
                }
            }
        } finally {
            writeLock.unlock();
        }
        fire(events);
    }

    /**
     * Puts the new route {@code pool} at the lower-case key {@code k}, prepared as {@code kk}. Caller holds the
     * write lock.
     */
    private void addRoute(String k, KeyTable.Key kk, Pool pool) {
        int slash = k.indexOf('/');
        String host = slash < 0 ? k : k.substring(0, slash);
        KeyTable.Key hk = slash < 0 ? kk : KeyTable.prepare(writeHost, host);
        boolean hostWasThere = isWildcard(host) && hostIsThere(hk);
        if (slash < 0) {
            table.setRoute(kk, pool);
        } else {
            int depth = pathDepth(k, slash);
            int[] counts = pathDepthCounts.get(host);
            if (counts == null) {
                pathDepthCounts.put(host, counts = new int[LAST_PATH_DEPTH + 1]);
                countPathHost(hk.hash(), 1);
            }
            if (counts[depth] == 0 && pathDepthHosts[depth]++ == 0) {
                pathDepths |= 1 << depth - 1; // before the key is in the table: see pathDepths
            }
            table.setRoute(kk, pool);
            if (counts[depth]++ == 0) {
                table.setPathDepths(hk, table.pathDepths(hk) | 1 << depth - 1);
            }
        }
        if (isWildcard(host) && !hostWasThere) {
            countWildcard(host, 1);
        }
    }

    /**
     * Takes the emptied route at the lower-case key {@code k}, prepared as {@code kk}, out. Caller holds the
     * write lock.
     */
    private void removeRoute(String k, KeyTable.Key kk) {
        int slash = k.indexOf('/');
        String host = slash < 0 ? k : k.substring(0, slash);
        KeyTable.Key hk = slash < 0 ? kk : KeyTable.prepare(writeHost, host);
        table.setRoute(kk, null);
        if (slash >= 0) {
            int depth = pathDepth(k, slash);
            int[] counts = pathDepthCounts.get(host);
            if (--counts[depth] == 0) {
                int depths = table.pathDepths(hk) & ~(1 << depth - 1);
                table.setPathDepths(hk, depths);
                if (--pathDepthHosts[depth] == 0) {
                    pathDepths &= ~(1 << depth - 1); // after the key left the table: see pathDepths
                }
                if (depths == 0) {
                    pathDepthCounts.remove(host);
                    countPathHost(hk.hash(), -1);
                }
            }
        }
        if (isWildcard(host) && !hostIsThere(hk)) {
            countWildcard(host, -1);
        }
    }

    /**
     * The table key of {@code key}: its key lower-cased as {@link RouteKey#lowerCase} does. A parsed key
     * already is, which one pass with the table-driven {@link KeyTable#lower} confirms for ASCII (the
     * general rule walks each character through {@code Character.toLowerCase}).
     */
    private static String lowerKey(RouteKey key) {
        String k = key.key();
        for (int i = 0; i < k.length(); i++) {
            char c = k.charAt(i);
            if (KeyTable.lower(c) != c) {
                return RouteKey.lowerCase(k);
            }
        }
        return k;
    }

    private boolean hostIsThere(KeyTable.Key host) {
        return table.route(host) != null || table.pathDepths(host) != 0;
    }

    private static boolean isWildcard(String host) {
        return host.startsWith("*.");
    }

    /** The segment count of the path of key {@code k} (after the {@code /} at {@code slash}), capped. */
    private static int pathDepth(String k, int slash) {
        int segments = 1;
        for (int i = slash + 1; i < k.length() && segments < LAST_PATH_DEPTH; i++) {
            if (k.charAt(i) == '/') {
                segments++;
            }
        }
        return segments;
    }

    /** The bucket of host hashes of the lower-case {@code host} (tests; writers pass a prepared key's hash). */
    int pathHostBucket(String host) {
        return bucket(table.hash(host));
    }

    /** The bucket of the host whose {@link KeyTable#hash} is {@code hash}. */
    private static int bucket(int hash) {
        return hash & PATH_HOST_BUCKETS - 1;
    }

    /** Whether the host whose {@link KeyTable#hash} is {@code hash} falls in a bucket with path hosts. */
    private boolean inPathHostBucket(int hash) {
        int bucket = bucket(hash);
        return (pathHosts[bucket >>> 6] >>> bucket & 1) != 0;
    }

    /** Counts the host whose {@link KeyTable#hash} is {@code hash} in or out of {@link #pathHosts}. */
    private void countPathHost(int hash, int change) {
        int bucket = bucket(hash);
        int count = pathHostCounts[bucket] += change;
        long bit = 1L << bucket;
        pathHosts[bucket >>> 6] = count > 0 ? pathHosts[bucket >>> 6] | bit : pathHosts[bucket >>> 6] & ~bit;
    }

    /** Whether the lower-case {@code host} is in a bucket of hosts with path routes (for tests). */
    boolean mayHavePathRoutes(String host) {
        return inPathHostBucket(table.hash(host));
    }

    /** Counts the wildcard host {@code *.<labels>} in or out of the depths lookups probe. */
    private void countWildcard(String host, int change) {
        int labels = 0;
        for (int i = 1; i < host.length(); i++) {
            if (host.charAt(i) == '.') {
                labels++;
            }
        }
        int depth = Math.min(labels, LAST_WILDCARD_DEPTH);
        wildcardDepthCounts[depth] += change;
        long depths = wildcardDepths;
        wildcardDepths = wildcardDepthCounts[depth] > 0 ? depths | 1L << depth : depths & ~(1L << depth);
    }

    private static int indexOf(Object members, String host, int port) {
        // Through the endpoint, not the shared state: a re-registration reads the endpoint next anyway.
        for (int i = 0, n = count(members); i < n; i++) {
            Endpoint e = at(members, i).endpoint;
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
            state = new EndpointState(endpoint);
            states.add(state);
        } else if (state.references == 0) {
            orphanStates--;
        }
        if (state.references++ == 0) {
            endpointCount++;
        }
        return new Member(state, endpoint, now);
    }

    /**
     * Removes member {@code i} of {@code pool}, whose lower-case key is {@code k} (prepared as {@code kk}), and the
     * route if it empties. Caller holds the write lock.
     */
    private void removeMember(String k, KeyTable.Key kk, Pool pool, int i, RegistryEvent.Type type,
                              List<RegistryEvent> events) {
        Object members = pool.members;
        Member gone = at(members, i);
        add(events, type, pool.routeKey, gone.endpoint);
        if (--gone.state.references == 0) {
            endpointCount--;
            if (gone.state.inFlight() == 0 && type != RegistryEvent.Type.ENDPOINT_PRUNED) {
                states.remove(gone.state);
            } else {
                // Requests still hold it, or a sweep is on (which drops all such states in one pass at its
                // end): keep its count in case the address comes back; dropped later.
                orphanStates++;
            }
        }
        int n = count(members);
        if (n == 2) {
            pool.members = at(members, 1 - i);
            return;
        }
        if (n > 2) {
            Member[] shrunk = new Member[n - 1];
            System.arraycopy(members, 0, shrunk, 0, i);
            System.arraycopy(members, i + 1, shrunk, i, shrunk.length - i);
            pool.members = shrunk;
            return;
        }
        // null, not an empty array: a store of null dirties no card (see Pool)
        pool.members = null;
        removeRoute(k, kk);
        routeCount--;
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
        for (Object route : sweep()) {
            if (!(route instanceof Pool pool) || !pool.hasStale(nowNanos)) {
                continue;
            }
            writeLock.lock();
            try {
                if (pruningSuspended) {
                    break;
                }
                if (pool.members == null) {
                    continue; // gone since the sweep read it: a route leaves the table only emptied, to null
                }
                String k = lowerKey(pool.routeKey);
                KeyTable.Key kk = KeyTable.prepare(writeKey, k);
                assert table.route(kk) == pool : pool.routeKey;
                boolean tell = !listeners.isEmpty();
                Object members = pool.members;
                for (int i = count(members) - 1; i >= 0; i--) {
                    if (at(members, i).isStale(nowNanos)) {
                        removeMember(k, kk, pool, i, RegistryEvent.Type.ENDPOINT_PRUNED, tell ? events : null);
                        pruned++;
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

    /** Every route of the table (and {@code null}s), shard by shard, without the lock: see KeyTable. */
    private Iterable<Object> sweep() {
        List<Object[]> shards = table.routesForSweep();
        return () -> shards.stream().flatMap(Arrays::stream).iterator();
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
            for (Object route : sweep()) {
                if (route instanceof Pool pool) {
                    for (Member m : pool.memberArray()) {
                        m.touch(now);
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
            for (Object route : sweep()) {
                if (route instanceof Pool pool) {
                    pools.add(pool);
                }
            }
            Map<RouteKey, List<RouteEndpoint>> copy = new LinkedHashMap<>();
            pools.sort(Comparator.comparing(p -> p.routeKey.key()));
            for (Pool pool : pools) {
                copy.put(pool.routeKey, List.of(pool.memberArray()));
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

    // ---- routes and members -------------------------------------------------------------------------

    /** The number of members in a {@link Pool#members} value. */
    static int count(Object members) {
        return members instanceof Member ? 1 : members == null ? 0 : ((Member[]) members).length;
    }

    /** Member {@code i} of a {@link Pool#members} value. */
    static Member at(Object members, int i) {
        return members instanceof Member one ? one : ((Member[]) members)[i];
    }

    /**
     * A route: its key, its members and its round-robin position. The object lives as long as the route;
     * {@link #members} is replaced (never changed in place) under the write lock.
     *
     * <p>{@link #members} is a {@code Member} while the route has one (most routes: no array for them), else a
     * {@code Member[]} of two or more, or {@code null} once the route is gone; read it once into a local and go
     * through {@link #count} and {@link #at}. Gone is {@code null} rather than an empty array because a sweep
     * empties 100 000 pools at a time: a store of a reference into an old object, under G1, dirties its card for
     * the concurrent refinement threads to scan (they took a core from the sweep and its lookups: sweeps of
     * 121-156 ms wall clock for 75-95 ms of CPU, docs/performance.md, session 10), where a store of {@code null}
     * dirties nothing.
     */
    final class Pool implements Route {
        private static final VarHandle NEXT;

        static {
            try {
                NEXT = MethodHandles.lookup().findVarHandle(Pool.class, "next", int.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        final RouteKey routeKey;
        volatile Object members;
        volatile LoadBalancing loadBalancing;
        private volatile int next = ThreadLocalRandom.current().nextInt();

        Pool(RouteKey routeKey, LoadBalancing loadBalancing) {
            this.routeKey = routeKey;
            this.loadBalancing = loadBalancing;
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

        boolean hasStale(long now) {
            Object m = members;
            for (int i = 0, n = count(m); i < n; i++) {
                if (at(m, i).isStale(now)) {
                    return true;
                }
            }
            return false;
        }

        /** The members as an array (a new one when there is one member). */
        Member[] memberArray() {
            Object m = members;
            return m instanceof Member one ? new Member[] {one} : m == null ? NO_MEMBERS : (Member[]) m;
        }

        @Override
        public RouteKey key() {
            return routeKey;
        }

        @Override
        public List<RouteEndpoint> endpoints() {
            return List.of(memberArray());
        }

        @Override
        public EndpointIterator iterator(String stickyInstanceId) {
            return new Attempts(this, stickyInstanceId);
        }

        @Override
        public String toString() {
            return routeKey + Arrays.toString(memberArray());
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
        public String address() {
            return state.address();
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
        private final Object members;
        private final int n;
        private final boolean[] tried;
        private int untried;
        private String sticky;
        private boolean limitReached;

        Attempts(Pool pool, String sticky) {
            this.pool = pool;
            this.members = pool.members;
            this.n = count(members);
            this.tried = new boolean[n];
            this.untried = n;
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
                for (int i = 0; i < n; i++) {
                    Member m = at(members, i);
                    if (!tried[i] && id.equals(m.endpoint.instanceId())) {
                        if (!m.state.isFailed(now) && m.tryAcquire()) {
                            return take(i);
                        }
                        break;
                    }
                }
            }
            boolean anyHealthy = false;
            for (int i = 0; i < n && !anyHealthy; i++) {
                anyHealthy = !tried[i] && !at(members, i).state.isFailed(now);
            }
            if (!anyHealthy) {
                // Every endpoint left is marked failed: clear the marks and try them anyway.
                for (int i = 0; i < n; i++) {
                    if (!tried[i]) {
                        at(members, i).state.failedUntilNanos = EndpointState.NOT_FAILED;
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
            return at(members, i);
        }

        private boolean candidate(int i, long now) {
            return !tried[i] && !at(members, i).state.isFailed(now);
        }

        private int roundRobin(long now) {
            // One member needs no position: not moving it spares every request a compare-and-set on the route,
            // a write that I/O threads serving the same route would otherwise pass between their caches.
            int start = n == 1 ? 0 : pool.nextIndex(n);
            for (int k = 0; k < n; k++) {
                int i = start + k < n ? start + k : start + k - n;
                if (candidate(i, now) && at(members, i).tryAcquire()) {
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
                for (int i = 0; i < n; i++) {
                    if (!candidate(i, now) || at(members, i).state.atLimit(maxConns)) {
                        continue;
                    }
                    int load = at(members, i).inFlight();
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
                if (at(members, best).tryAcquire()) {
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
