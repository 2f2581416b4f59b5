package io.cfrouter.registry;

import io.cfrouter.core.Endpoint;
import io.cfrouter.core.RouteKey;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/** Route-key parsing and lookup with generated hosts and paths, and the table against a simple model. */
class RouteRegistryPropertiesTest {

    @Provide
    Arbitrary<String> hosts() {
        Arbitrary<String> label = Arbitraries.strings().withChars("aAbB-z9").ofMinLength(1).ofMaxLength(4);
        Arbitrary<String> name = label.list().ofMinSize(1).ofMaxSize(4).map(labels -> String.join(".", labels));
        Arbitrary<String> wildcard = name.map(n -> "*." + n);
        Arbitrary<String> ipv6 = Arbitraries.of("[::1]", "[FE80::1]", "::2", "[2001:db8::7]");
        Arbitrary<String> host = Arbitraries.frequencyOf(Tuple.of(6, name), Tuple.of(2, wildcard), Tuple.of(1, ipv6));
        Arbitrary<String> port = Arbitraries.of("", ":80", ":8081", ":");
        return Combinators.combine(host, port).as((h, p) -> h.startsWith(":") || h.startsWith("::") ? h : h + p);
    }

    @Provide
    Arbitrary<String> paths() {
        Arbitrary<String> segment = Arbitraries.strings().withChars("aB/\u00e9%2F?x").ofMaxLength(5);
        return segment.list().ofMaxSize(4).map(s -> String.join("/", s));
    }

    @Property(tries = 300)
    void lookupNeverThrowsWhateverTheInput(@ForAll String host, @ForAll String path,
                                           @ForAll("hosts") String routeHost, @ForAll("paths") String routePath) {
        RouteRegistry registry = RouteRegistry.builder().ticker(new FakeTicker()).build();
        registry.register(RouteKey.parse(routeHost + "/" + routePath), Endpoint.of("10.0.0.1", 80));

        assertThat(catchThrowable(() -> registry.lookup(host, path))).isNull();
        assertThat(catchThrowable(() -> registry.lookup(routeHost, host + path))).isNull();
    }

    @Property(tries = 300)
    void parseEitherGivesANormalisedKeyOrRejectsTheUri(@ForAll String uri) {
        RouteKey key;
        try {
            key = RouteKey.parse(uri);
        } catch (IllegalArgumentException rejected) {
            return;
        }
        assertThat(key.key()).isNotEmpty().doesNotEndWith("/").isEqualTo(RouteKey.lowerCase(key.key()));
        assertThat(key.contextPath()).startsWith("/");
        assertThat(RouteKey.parse(key.key())).isEqualTo(key);
    }

    @Property(tries = 300)
    void aRegisteredRouteIsFoundByItsOwnHostAndPath(@ForAll("hosts") String host, @ForAll("paths") String path,
                                                     @ForAll("paths") String rest) {
        RouteKey key = RouteKey.parse(host + "/" + path.replace("%", "").replace("?", ""));
        RouteRegistry registry = RouteRegistry.builder().ticker(new FakeTicker()).build();
        registry.register(key, Endpoint.of("10.0.0.1", 80));

        String requestPath = key.contextPath() + "/" + rest.replace("%", "");
        Route route = registry.lookup(key.host().toUpperCase(Locale.ROOT) + ":1234", requestPath);

        assertThat(route).isNotNull();
        assertThat(route.key()).isEqualTo(key);
    }

    /** One step of a random history. */
    record Op(int kind, int route, int endpoint, int seconds) {
    }

    @Provide
    Arbitrary<List<Op>> histories() {
        Arbitrary<Op> op = Combinators.combine(Arbitraries.integers().between(0, 9),
                Arbitraries.integers().between(0, 11), Arbitraries.integers().between(0, 5),
                Arbitraries.integers().between(0, 90)).as(Op::new);
        return op.list().ofMaxSize(60);
    }

    private static final List<String> ROUTES = List.of("a.com", "A.com/x", "a.com/x/y", "*.a.com", "b.a.com",
            "b.a.com/x", "[::1]", "[::1]/p", "c.com/Q", "*.com", "d.com", "d.com/x/Y");

    @Property(tries = 200)
    void theTableStaysConsistentWithAModelThroughRandomHistories(@ForAll("histories") List<Op> history) {
        FakeTicker ticker = new FakeTicker();
        RouteRegistry registry = RouteRegistry.builder().ticker(ticker).staleThreshold(Duration.ofSeconds(120))
                .build();
        // key -> address -> the ticker reading at which it goes stale
        Map<RouteKey, Map<String, Long>> model = new HashMap<>();
        for (Op op : history) {
            RouteKey key = RouteKey.parse(ROUTES.get(op.route()));
            Endpoint endpoint = new Endpoint("10.0.0." + op.endpoint(), 80, "app", "i" + op.endpoint(), "0",
                    Map.of("component", "c", "n", Integer.toString(op.seconds())),
                    Duration.ofSeconds(op.seconds() * 2L), null);
            if (op.kind() < 6) {
                registry.register(key, endpoint);
                long threshold = Math.min(120, op.seconds() * 2L);
                model.computeIfAbsent(key, k -> new HashMap<>()).put(endpoint.address(),
                        ticker.read() + Duration.ofSeconds(threshold == 0 ? 120 : threshold).toNanos());
            } else if (op.kind() < 8) {
                registry.unregister(key, endpoint.address());
                Map<String, Long> pool = model.get(key);
                if (pool != null && pool.remove(endpoint.address()) != null && pool.isEmpty()) {
                    model.remove(key);
                }
            } else {
                ticker.advance(Duration.ofSeconds(op.seconds()));
                long now = ticker.read();
                int expected = 0;
                for (Map<String, Long> pool : model.values()) {
                    int before = pool.size();
                    pool.values().removeIf(staleAt -> now - staleAt > 0);
                    expected += before - pool.size();
                }
                model.values().removeIf(Map::isEmpty);
                assertThat(registry.pruneStale(now)).isEqualTo(expected);
            }
            assertConsistent(registry, model);
        }
    }

    private static final List<String> NESTED = List.of("a.com", "a.com/p", "a.com/p/q", "a.com/p/q/r",
            "a.com/P//q", "x.a.com", "x.a.com/p/q", "*.a.com", "*.a.com/p", "*.a.com/p/q/r", "*.x.a.com",
            "*.x.a.com/p", "*.com", "*.com/q", "b.com/p", "[::1]", "[::1]/p/q");
    private static final List<String> REQUEST_HOSTS = List.of("a.com", "A.COM:80", "x.a.com", "y.x.a.com",
            "z.a.com", "b.com", "y.b.com", "com", "::1", "[::1]:1");
    private static final List<String> REQUEST_PATHS = List.of("/", "/p", "/P/Q", "/p/q/r/s", "/p//q/r", "/pq",
            "/q/p", "//p/q//", "/p/q?x=/r");

    @Provide
    Arbitrary<List<Integer>> toggles() {
        return Arbitraries.integers().between(0, NESTED.size() - 1).list().ofMaxSize(40);
    }

    /**
     * Adding and removing routes of nested hosts, wildcards and path depths in any order: after every step
     * each request finds what a plain reading of the rules finds (so no depth is forgotten too early or
     * remembered too long).
     */
    @Property(tries = 200)
    void lookupsAgreeWithTheRulesThroughRandomAddsAndRemoves(@ForAll("toggles") List<Integer> toggles) {
        RouteRegistry registry = RouteRegistry.builder().ticker(new FakeTicker()).build();
        Set<String> live = new HashSet<>();
        for (int t : toggles) {
            RouteKey key = RouteKey.parse(NESTED.get(t));
            if (live.add(key.key())) {
                registry.register(key, Endpoint.of("10.0.0.1", 80));
            } else {
                live.remove(key.key());
                registry.unregister(key, "10.0.0.1:80");
            }
            for (String host : REQUEST_HOSTS) {
                for (String path : REQUEST_PATHS) {
                    Route route = registry.lookup(host, path);
                    assertThat(route == null ? null : route.key().key()).as("%s %s after %s", host, path, live)
                            .isEqualTo(byTheRules(live, host, path));
                }
            }
        }
    }

    /** The route the rules give, read straight: exact host then nearest wildcard; longest whole-segment path. */
    private static String byTheRules(Set<String> live, String requestHost, String requestPath) {
        String host = requestHost.toLowerCase(Locale.ROOT);
        if (host.startsWith("::")) {
            host = "[" + host + "]";
        } else if (host.lastIndexOf(':') > host.lastIndexOf(']')) {
            host = host.substring(0, host.lastIndexOf(':'));
        }
        String path = requestPath.split("\\?", -1)[0].toLowerCase(Locale.ROOT).replaceAll("^/+|/+$", "");
        List<String> candidates = new java.util.ArrayList<>(List.of(host));
        if (!host.startsWith("[")) {
            for (int dot = host.indexOf('.'); dot >= 0; dot = host.indexOf('.', dot + 1)) {
                candidates.add("*" + host.substring(dot));
            }
        }
        for (String candidate : candidates) {
            String best = live.contains(candidate) ? candidate : null;
            for (int end = 1; end <= path.length(); end++) {
                if ((end == path.length() || path.charAt(end) == '/') && live.contains(candidate + "/"
                        + path.substring(0, end))) {
                    best = candidate + "/" + path.substring(0, end);
                }
            }
            if (best != null) {
                return best;
            }
        }
        return null;
    }

    private static void assertConsistent(RouteRegistry registry, Map<RouteKey, Map<String, Long>> model) {
        Map<RouteKey, List<RouteEndpoint>> snapshot = registry.snapshot();
        Map<RouteKey, Set<String>> actual = new TreeMap<>((a, b) -> a.key().compareTo(b.key()));
        Set<String> addresses = new HashSet<>();
        snapshot.forEach((key, endpoints) -> {
            Set<String> set = new HashSet<>();
            endpoints.forEach(e -> set.add(e.endpoint().address()));
            actual.put(key, set);
            addresses.addAll(set);
        });
        Map<RouteKey, Set<String>> expected = new TreeMap<>((a, b) -> a.key().compareTo(b.key()));
        model.forEach((key, pool) -> expected.put(key, pool.keySet()));

        assertThat(actual).isEqualTo(expected);
        assertThat(registry.routeCount()).isEqualTo(snapshot.size());
        assertThat(registry.endpointCount()).isEqualTo(addresses.size());
        for (RouteKey key : model.keySet()) {
            String host = key.host().startsWith("*.") ? "z" + key.host().substring(1) : key.host();
            assertThat(registry.lookup(host, key.contextPath() + "/more")).extracting(Route::key).isEqualTo(key);
        }
    }
}
