package io.cfrouter.registry;

import io.cfrouter.core.Endpoint;
import io.cfrouter.core.RouteKey;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * What a proxied request reads of its route, at 1 and 100 000 routes shaped as {@code bench/run} registers
 * them ({@code app<i>.bench.test}, one endpoint each, all at one backend address, an app id and an instance id
 * of their own): the lookup, the walk's first endpoint, the endpoint's {@code X-CF-*} values copied as the
 * head writer copies them, the app id's hash (the per-application count's key), and the release. Every name
 * in turn, in a shuffled order, so that at 100 000 routes nearly every read of a route's data misses the core's
 * caches, as in the side-by-side benchmark. The difference between 1 and 100 000 routes is the
 * per-request cost of a name, without the noise of the load benchmark (where it is a few percent of the whole).
 * One difference from the router: a route's objects lie here as they were allocated (the set-up fills the
 * young generation without a collection), where the router's were moved together by collections.
 *
 * <pre>mvn -B -q -pl router-registry -am -Pbench test -DskipTests -Djmh.args="ServeBenchmark -f 3 -wi 3 -i 5 -w 1s -r 1s
 *     -jvmArgs '-Xms1g -Xmx1g -XX:+UseParallelGC -XX:+AlwaysPreTouch -XX:+UseTransparentHugePages'"</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ServeBenchmark {

    @Param({"1", "100000"})
    public int routes;

    /**
     * Work between two requests, in JMH's tokens: a request does thousands of instructions besides these reads,
     * so one request's cache misses do not overlap the next's, as they would in a tight loop.
     */
    @Param({"100"})
    public int work;

    private RouteRegistry registry;
    /**
     * For {@link #serveIndexed}: each host's route in an open-addressing array of its own (a power of two, at
     * most half full), found by the host string's hash and confirmed by the route's own key.
     */
    private Route[] index;
    /** The route of each request in turn: a shuffled order of every route. */
    private int[] order;
    private final StringBuilder hostBuilder = new StringBuilder("app");
    private int next;
    private final byte[] head = new byte[512];

    @Setup
    public void setUp() {
        registry = RouteRegistry.builder().ticker(new FakeTicker()).build();
        for (int i = 0; i < routes; i++) {
            // New strings each, as a decoder makes them: the canonicaliser shares those that repeat.
            registry.register(RouteKey.parse("app" + i + ".bench.test"),
                    new Endpoint(new String("127.0.0.1"), 8080, "bench-app-" + i, "bench-" + i, new String("0"),
                            Map.of(), Duration.ZERO, null));
        }
        order = new int[routes];
        for (int i = 0; i < routes; i++) {
            order[i] = i;
        }
        Random random = new Random(42);
        for (int i = routes - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        index = new Route[Integer.highestOneBit(Math.max(1, routes)) << 2];
        for (int r = 0; r < routes; r++) {
            String host = nextHost(); // every name once: next is back at 0 after the loop
            Route route = registry.lookup(host, "/");
            if (route == null) {
                throw new IllegalStateException("miss: " + host);
            }
            int i = KeyTable.spread(host.hashCode()) & (index.length - 1);
            while (index[i] != null) {
                i = (i + 1) & (index.length - 1);
            }
            index[i] = route;
        }
    }

    /**
     * {@link #serve} with the route found through {@link #index}: a bound, for comparison, on what a table
     * reading one array line and then the route (where the key is confirmed) would cost; not a lookup the
     * router could use as it is (no case folding, no ports, paths or wildcards).
     */
    @Benchmark
    public int serveIndexed() {
        Blackhole.consumeCPU(work);
        String host = nextHost();
        Route[] a = index;
        int i = KeyTable.spread(host.hashCode()) & (a.length - 1);
        Route route;
        while (!(route = a[i]).key().host().equals(host)) {
            i = (i + 1) & (a.length - 1);
        }
        return use(route);
    }

    /** A request's reads of its route: the lookup, then {@link #use}. */
    @Benchmark
    public int serve() {
        Blackhole.consumeCPU(work);
        return use(registry.lookup(nextHost(), "/"));
    }

    /**
     * What a request reads of the route it found: the first endpoint of the walk, its {@code X-CF-*} values
     * copied, the app id's hash, the endpoint's address; the endpoint is then released.
     */
    private int use(Route route) {
        RouteEndpoint e = route.iterator(null).next();
        Endpoint endpoint = e.endpoint();
        int at = put(endpoint.instanceId(), 0);
        at = put(endpoint.appId(), at);
        at = put(endpoint.instanceIndex(), at);
        int sum = at + endpoint.appId().hashCode() + e.address().length();
        e.release();
        return sum;
    }

    /** The lookup alone: the key table's part of {@link #serve}. */
    @Benchmark
    public Route lookup() {
        Blackhole.consumeCPU(work);
        return registry.lookup(nextHost(), "/");
    }

    /** The lookup and the walk's first endpoint, taken and released: {@link #serve} without the values. */
    @Benchmark
    public Endpoint take() {
        Blackhole.consumeCPU(work);
        RouteEndpoint e = registry.lookup(nextHost(), "/").iterator(null).next();
        e.release();
        return e.endpoint();
    }

    /**
     * The next request's host, made afresh as the router's request parser makes it (so that, as there, the
     * request's own string is not one of the cold reads).
     */
    private String nextHost() {
        int r = next;
        next = r + 1 == order.length ? 0 : r + 1;
        StringBuilder b = hostBuilder;
        b.setLength(3);
        return b.append(order[r]).append(".bench.test").toString();
    }

    private int put(String s, int at) {
        s.getBytes(0, s.length(), head, at);
        return at + s.length();
    }
}
