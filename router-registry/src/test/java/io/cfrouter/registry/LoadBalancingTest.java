package io.cfrouter.registry;

import io.cfrouter.core.Endpoint;
import io.cfrouter.core.LoadBalancing;
import io.cfrouter.core.RouteKey;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class LoadBalancingTest {

    private static final RouteKey APP = RouteKey.parse("app.com");

    private final FakeTicker ticker = new FakeTicker();

    private RouteRegistry registry(LoadBalancing balancing, int maxConns) {
        return RouteRegistry.builder().ticker(ticker).staleThreshold(Duration.ofSeconds(120))
                .loadBalancing(balancing).maxConnsPerEndpoint(maxConns).build();
    }

    private static Endpoint endpoint(int n) {
        return new Endpoint("10.0.0." + n, 8080, "app", "instance-" + n, Integer.toString(n), Map.of(),
                Duration.ZERO, null);
    }

    private static RouteRegistry withEndpoints(RouteRegistry registry, int count) {
        for (int n = 1; n <= count; n++) {
            registry.register(APP, endpoint(n));
        }
        return registry;
    }

    /** The next endpoint of a fresh request, released at once. */
    private static String pick(RouteRegistry registry) {
        RouteEndpoint e = registry.lookup("app.com", "/").iterator(null).next();
        if (e == null) {
            return null;
        }
        e.release();
        return e.endpoint().host();
    }

    @Test
    void shouldVisitEveryEndpointOncePerRoundRobinCycle() {
        RouteRegistry registry = withEndpoints(registry(LoadBalancing.ROUND_ROBIN, 0), 3);

        List<String> picks = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            picks.add(pick(registry));
        }

        assertThat(picks.subList(0, 3)).containsExactlyInAnyOrder("10.0.0.1", "10.0.0.2", "10.0.0.3");
        assertThat(picks.subList(3, 6)).isEqualTo(picks.subList(0, 3));
    }

    @Test
    void shouldStartRoundRobinAtARandomEndpoint() {
        Set<String> firstPicks = new HashSet<>();
        for (int i = 0; i < 64; i++) {
            firstPicks.add(pick(withEndpoints(registry(LoadBalancing.ROUND_ROBIN, 0), 2)));
        }

        assertThat(firstPicks).containsExactlyInAnyOrder("10.0.0.1", "10.0.0.2");
    }

    @Test
    void shouldKeepTheRoundRobinPositionWhenAnEndpointJoins() {
        RouteRegistry registry = withEndpoints(registry(LoadBalancing.ROUND_ROBIN, 0), 2);
        for (int n = 3; n < 20; n++) {
            List<RouteEndpoint> before = registry.lookup("app.com", "/").endpoints();
            String last = pick(registry);
            int lastIndex = before.stream().map(e -> e.endpoint().host()).toList().indexOf(last);

            registry.register(APP, endpoint(n));

            List<RouteEndpoint> after = registry.lookup("app.com", "/").endpoints();
            assertThat(pick(registry)).isEqualTo(after.get((lastIndex + 1) % after.size()).endpoint().host());
        }
    }

    @Test
    void shouldSkipAnEndpointMarkedFailedForAQuarterOfTheThreshold() {
        RouteRegistry registry = withEndpoints(registry(LoadBalancing.ROUND_ROBIN, 0), 2);
        RouteEndpoint failed = registry.lookup("app.com", "/").endpoints().get(0);
        failed.markFailed();

        for (int i = 0; i < 4; i++) {
            assertThat(pick(registry)).isEqualTo("10.0.0.2");
        }
        ticker.advance(Duration.ofSeconds(30));
        assertThat(failed.isFailed()).isFalse();
        assertThat(List.of(pick(registry), pick(registry))).contains("10.0.0.1");
    }

    @Test
    void shouldShareAFailureMarkAcrossTheRoutesOfAnAddress() {
        RouteRegistry registry = registry(LoadBalancing.ROUND_ROBIN, 0);
        registry.register(APP, endpoint(1));
        registry.register(RouteKey.parse("other.com"), endpoint(1));

        registry.lookup("app.com", "/").endpoints().get(0).markFailed();

        assertThat(registry.lookup("other.com", "/").endpoints().get(0).isFailed()).isTrue();
    }

    @Test
    void shouldClearTheMarksWhenEveryEndpointIsMarkedFailed() {
        RouteRegistry registry = withEndpoints(registry(LoadBalancing.LEAST_CONNECTION, 0), 2);
        registry.lookup("app.com", "/").endpoints().forEach(RouteEndpoint::markFailed);

        assertThat(pick(registry)).isNotNull();
        assertThat(registry.lookup("app.com", "/").endpoints()).noneMatch(RouteEndpoint::isFailed);
    }

    @Test
    void shouldSkipEndpointsAtTheConnectionLimit() {
        RouteRegistry registry = withEndpoints(registry(LoadBalancing.ROUND_ROBIN, 1), 2);
        Route route = registry.lookup("app.com", "/");

        RouteEndpoint first = route.iterator(null).next();
        RouteEndpoint second = route.iterator(null).next();
        EndpointIterator third = route.iterator(null);

        assertThat(second).isNotSameAs(first);
        assertThat(third.next()).isNull();
        assertThat(third.connectionLimitReached()).isTrue();
        first.release();
        assertThat(route.iterator(null).next()).isSameAs(first);
    }

    @Test
    void shouldCountRequestsInFlightOnceAcrossRoutes() {
        RouteRegistry registry = registry(LoadBalancing.ROUND_ROBIN, 1);
        registry.register(APP, endpoint(1));
        registry.register(RouteKey.parse("other.com"), endpoint(1));

        RouteEndpoint held = registry.lookup("app.com", "/").iterator(null).next();
        EndpointIterator other = registry.lookup("other.com", "/").iterator(null);

        assertThat(held.inFlight()).isEqualTo(1);
        assertThat(other.next()).isNull();
        assertThat(other.connectionLimitReached()).isTrue();
    }

    @Test
    void shouldKeepTheInFlightCountOfAnAddressThatLeavesAndComesBack() {
        RouteRegistry registry = registry(LoadBalancing.ROUND_ROBIN, 1);
        registry.register(APP, endpoint(1));
        RouteEndpoint held = registry.lookup("app.com", "/").iterator(null).next();

        registry.unregister(APP, "10.0.0.1:8080");
        registry.register(APP, endpoint(1));

        assertThat(registry.lookup("app.com", "/").iterator(null).next()).isNull();
        held.release();
        assertThat(registry.lookup("app.com", "/").endpoints().get(0).inFlight()).isZero();
        assertThat(pick(registry)).isEqualTo("10.0.0.1");
    }

    @Test
    void shouldPickTheEndpointWithFewestRequestsInFlight() {
        RouteRegistry registry = withEndpoints(registry(LoadBalancing.LEAST_CONNECTION, 0), 3);
        List<RouteEndpoint> endpoints = registry.lookup("app.com", "/").endpoints();
        endpoints.get(0).tryAcquire();
        endpoints.get(0).tryAcquire();
        endpoints.get(2).tryAcquire();

        for (int i = 0; i < 10; i++) {
            assertThat(pick(registry)).isEqualTo("10.0.0.2");
        }
    }

    @Test
    void shouldBreakLeastConnectionTiesAtRandom() {
        RouteRegistry registry = withEndpoints(registry(LoadBalancing.LEAST_CONNECTION, 0), 3);

        Set<String> picks = new HashSet<>();
        for (int i = 0; i < 100; i++) {
            picks.add(pick(registry));
        }

        assertThat(picks).containsExactlyInAnyOrder("10.0.0.1", "10.0.0.2", "10.0.0.3");
    }

    @Test
    void shouldUseTheAlgorithmAnEndpointAsksFor() {
        RouteRegistry registry = withEndpoints(registry(LoadBalancing.ROUND_ROBIN, 0), 2);
        registry.register(APP, new Endpoint("10.0.0.3", 8080, "", "", "", Map.of(), Duration.ZERO,
                LoadBalancing.LEAST_CONNECTION));
        List<RouteEndpoint> endpoints = registry.lookup("app.com", "/").endpoints();
        endpoints.get(0).tryAcquire();
        endpoints.get(1).tryAcquire();

        for (int i = 0; i < 5; i++) {
            assertThat(pick(registry)).isEqualTo("10.0.0.3");
        }
    }

    @Test
    void shouldTryTheStickyInstanceFirst() {
        RouteRegistry registry = withEndpoints(registry(LoadBalancing.ROUND_ROBIN, 0), 3);

        for (int i = 0; i < 5; i++) {
            RouteEndpoint e = registry.lookup("app.com", "/").iterator("instance-2").next();
            assertThat(e.endpoint().instanceId()).isEqualTo("instance-2");
            e.release();
        }
    }

    @Test
    void shouldIgnoreAStickyInstanceThatIsUnknownFailedOrFull() {
        RouteRegistry registry = withEndpoints(registry(LoadBalancing.ROUND_ROBIN, 1), 2);
        Route route = registry.lookup("app.com", "/");

        assertThat(route.iterator("instance-9").next()).isNotNull().satisfies(RouteEndpoint::release);
        route.endpoints().get(0).markFailed();
        assertThat(route.iterator("instance-1").next().endpoint().instanceId()).isEqualTo("instance-2");
        assertThat(route.iterator("instance-2").next()).isNull();
    }

    @Test
    void shouldNeverRepeatAnEndpointWhileUntriedOnesRemain() {
        for (LoadBalancing balancing : LoadBalancing.values()) {
            RouteRegistry registry = withEndpoints(registry(balancing, 0), 5);
            EndpointIterator attempts = registry.lookup("app.com", "/").iterator("instance-3");

            List<String> tried = new ArrayList<>();
            for (RouteEndpoint e = attempts.next(); e != null; e = attempts.next()) {
                tried.add(e.endpoint().host());
                e.markFailed();
                e.release();
            }

            assertThat(tried).hasSize(5).doesNotHaveDuplicates().startsWith("10.0.0.3");
            assertThat(attempts.connectionLimitReached()).isFalse();
        }
    }

    @Test
    void shouldWalkTheMembersARequestStartedWith() {
        RouteRegistry registry = withEndpoints(registry(LoadBalancing.ROUND_ROBIN, 0), 2);
        EndpointIterator attempts = registry.lookup("app.com", "/").iterator(null);

        registry.register(APP, endpoint(3));
        registry.unregister(APP, "10.0.0.1:8080");

        List<String> tried = new ArrayList<>();
        for (RouteEndpoint e = attempts.next(); e != null; e = attempts.next()) {
            tried.add(e.endpoint().host());
        }
        assertThat(tried).containsExactlyInAnyOrder("10.0.0.1", "10.0.0.2");
    }

    @Test
    void shouldNeverCountBelowZero() {
        RouteRegistry registry = withEndpoints(registry(LoadBalancing.ROUND_ROBIN, 1), 1);
        RouteEndpoint e = registry.lookup("app.com", "/").iterator(null).next();

        e.release();
        e.release();

        assertThat(e.inFlight()).isZero();
        assertThat(e.tryAcquire()).isTrue();
        assertThat(e.tryAcquire()).isFalse();
    }
}
