package io.cfrouter.registry;

import io.cfrouter.core.Endpoint;
import io.cfrouter.core.RouteKey;
import io.cfrouter.core.RouteRegistration;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.cfrouter.registry.RegistryEvent.Type.ENDPOINT_ADDED;
import static io.cfrouter.registry.RegistryEvent.Type.ENDPOINT_PRUNED;
import static io.cfrouter.registry.RegistryEvent.Type.ENDPOINT_REMOVED;
import static io.cfrouter.registry.RegistryEvent.Type.ENDPOINT_UPDATED;
import static io.cfrouter.registry.RegistryEvent.Type.ROUTE_ADDED;
import static io.cfrouter.registry.RegistryEvent.Type.ROUTE_REMOVED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

class RouteTableTest {

    private static final RouteKey APP = RouteKey.parse("app.com");
    private static final RouteKey API = RouteKey.parse("app.com/api");

    private final FakeTicker ticker = new FakeTicker();
    private final RouteRegistry registry = RouteRegistry.builder().ticker(ticker)
            .staleThreshold(Duration.ofSeconds(120)).build();

    private static Endpoint endpoint(String host, int port, String instanceId, Duration threshold) {
        return new Endpoint(host, port, "app-guid", instanceId, "0", Map.of("component", "route-emitter"),
                threshold, null);
    }

    private List<String> addresses(RouteKey key) {
        Route route = registry.lookup(key.host(), key.contextPath());
        if (route == null) {
            return List.of();
        }
        return route.endpoints().stream().map(e -> e.endpoint().address()).toList();
    }

    @Test
    void shouldAddEndpointsToARouteByAddress() {
        registry.register(APP, Endpoint.of("10.0.0.1", 80));
        registry.register(APP, Endpoint.of("10.0.0.2", 80));
        registry.register(APP, Endpoint.of("10.0.0.1", 81));

        assertThat(addresses(APP)).containsExactly("10.0.0.1:80", "10.0.0.2:80", "10.0.0.1:81");
        assertThat(registry.routeCount()).isEqualTo(1);
        assertThat(registry.endpointCount()).isEqualTo(3);
    }

    /** The table's endpoints give the same text as the registered endpoint's, IPv6 in brackets, built once. */
    @Test
    void shouldGiveEachEndpointsAddressOnceBuilt() {
        registry.register(APP, Endpoint.of("10.0.0.1", 80));
        registry.register(APP, Endpoint.of("::1", 8080));
        registry.register(API, Endpoint.of("10.0.0.1", 80));

        List<RouteEndpoint> endpoints = registry.lookup("app.com", "/").endpoints();
        assertThat(endpoints).extracting(RouteEndpoint::address).containsExactly("10.0.0.1:80", "[::1]:8080");
        for (RouteEndpoint e : endpoints) {
            assertThat(e.address()).isEqualTo(e.endpoint().address()).isSameAs(e.address());
        }
        // One address in two routes: one text.
        assertThat(registry.lookup("app.com", "/api").endpoints().get(0).address()).isSameAs(endpoints.get(0).address());
    }

    @Test
    void shouldReplaceTheFieldsOfAnAddressThatRegistersAgain() {
        registry.register(APP, endpoint("10.0.0.1", 80, "old", Duration.ZERO));
        registry.register(APP, endpoint("10.0.0.1", 80, "new", Duration.ZERO));

        Route route = registry.lookup("app.com", "/");
        assertThat(route.endpoints()).singleElement()
                .satisfies(e -> assertThat(e.endpoint().instanceId()).isEqualTo("new"));
        assertThat(registry.endpointCount()).isEqualTo(1);
    }

    @Test
    void shouldUnregisterFromThatExactRouteOnly() {
        Endpoint e = Endpoint.of("10.0.0.1", 80);
        registry.register(new RouteRegistration(e, List.of(APP, API)));

        registry.unregister(API, "10.0.0.1:80");

        assertThat(addresses(APP)).containsExactly("10.0.0.1:80");
        assertThat(registry.lookup("app.com", "/api").key()).isEqualTo(APP);
        assertThat(registry.routeCount()).isEqualTo(1);
        assertThat(registry.endpointCount()).isEqualTo(1);
    }

    @Test
    void shouldRemoveARouteWhenItsLastEndpointLeaves() {
        registry.register(new RouteRegistration(Endpoint.of("::1", 80), List.of(APP, API)));

        registry.unregister(new RouteRegistration(Endpoint.of("::1", 80), List.of(APP, API)));

        assertThat(registry.lookup("app.com", "/api")).isNull();
        assertThat(registry.routeCount()).isZero();
        assertThat(registry.endpointCount()).isZero();
        assertThat(registry.snapshot()).isEmpty();
    }

    @Test
    void shouldLeaveARouteHeldAcrossItsRemovalEmpty() {
        registry.register(APP, Endpoint.of("10.0.0.1", 80));
        registry.register(API, endpoint("10.0.0.2", 80, "b", Duration.ofSeconds(30)));
        Route unregistered = registry.lookup("app.com", "/");
        Route pruned = registry.lookup("app.com", "/api");

        registry.unregister(APP, "10.0.0.1:80");
        ticker.advance(Duration.ofSeconds(31));
        assertThat(registry.pruneStale(ticker.read())).isEqualTo(1);

        for (Route gone : List.of(unregistered, pruned)) {
            assertThat(gone.endpoints()).isEmpty();
            assertThat(gone.iterator(null).next()).isNull();
        }
        assertThat(unregistered.key()).isEqualTo(APP);
    }

    @Test
    void shouldIgnoreUnregisteringAnUnknownRouteOrAddress() {
        registry.register(APP, Endpoint.of("10.0.0.1", 80));
        long before = registry.lastUpdateNanos();
        ticker.advance(Duration.ofSeconds(1));

        registry.unregister(API, "10.0.0.1:80");
        registry.unregister(APP, "10.0.0.1:81");
        registry.unregister(APP, "garbage");

        assertThat(addresses(APP)).containsExactly("10.0.0.1:80");
        assertThat(registry.lastUpdateNanos()).isEqualTo(before);
    }

    @Test
    void shouldPruneEndpointsOlderThanTheirThreshold() {
        registry.register(APP, endpoint("10.0.0.1", 80, "a", Duration.ZERO));
        registry.register(APP, endpoint("10.0.0.2", 80, "b", Duration.ofSeconds(30)));

        ticker.advance(Duration.ofSeconds(30));
        assertThat(registry.pruneStale(ticker.read())).isZero();
        ticker.advance(Duration.ofNanos(1));
        assertThat(registry.pruneStale(ticker.read())).isEqualTo(1);
        assertThat(addresses(APP)).containsExactly("10.0.0.1:80");

        ticker.advance(Duration.ofSeconds(90));
        assertThat(registry.pruneStale(ticker.read())).isEqualTo(1);
        assertThat(registry.lookup("app.com", "/")).isNull();
        assertThat(registry.routeCount()).isZero();
        assertThat(registry.endpointCount()).isZero();
    }

    @Test
    void shouldCapAnEndpointsThresholdAtTheRouters() {
        registry.register(APP, endpoint("10.0.0.1", 80, "a", Duration.ofHours(1)));

        ticker.advance(Duration.ofSeconds(121));

        assertThat(registry.pruneStale(ticker.read())).isEqualTo(1);
    }

    @Test
    void shouldRestartTheStalenessClockOnEveryRegistration() {
        Endpoint e = endpoint("10.0.0.1", 80, "a", Duration.ZERO);
        registry.register(APP, e);
        ticker.advance(Duration.ofSeconds(100));
        registry.register(APP, e);
        ticker.advance(Duration.ofSeconds(100));

        assertThat(registry.pruneStale(ticker.read())).isZero();
        assertThat(registry.staleAtNanos(APP, registry.lookup("app.com", "/").endpoints().get(0)))
                .isEqualTo(ticker.read() + Duration.ofSeconds(20).toNanos());
    }

    @Test
    void shouldRestartTheClockWhenTheFieldsChange() {
        registry.register(APP, endpoint("10.0.0.1", 80, "a", Duration.ZERO));
        ticker.advance(Duration.ofSeconds(100));
        registry.register(APP, endpoint("10.0.0.1", 80, "b", Duration.ZERO));
        ticker.advance(Duration.ofSeconds(100));

        assertThat(registry.pruneStale(ticker.read())).isZero();
    }

    @Test
    void shouldKeepASeparateClockPerRoute() {
        Endpoint e = Endpoint.of("10.0.0.1", 80);
        registry.register(APP, e);
        registry.register(API, e);
        ticker.advance(Duration.ofSeconds(100));
        registry.register(API, e);
        ticker.advance(Duration.ofSeconds(100));

        assertThat(registry.pruneStale(ticker.read())).isEqualTo(1);
        assertThat(registry.snapshot()).containsOnlyKeys(API);
        assertThat(registry.endpointCount()).isEqualTo(1);
    }

    @Test
    void shouldNotPruneWhileSuspended() {
        registry.register(APP, Endpoint.of("10.0.0.1", 80));
        registry.suspendPruning();
        ticker.advance(Duration.ofSeconds(500));

        assertThat(registry.isPruningSuspended()).isTrue();
        assertThat(registry.pruneStale(ticker.read())).isZero();
        assertThat(addresses(APP)).hasSize(1);
    }

    @Test
    void shouldRestartEveryClockWhenPruningResumes() {
        registry.register(APP, Endpoint.of("10.0.0.1", 80));
        registry.register(API, Endpoint.of("10.0.0.2", 80));
        registry.suspendPruning();
        ticker.advance(Duration.ofSeconds(500));

        registry.resumePruning();

        assertThat(registry.isPruningSuspended()).isFalse();
        ticker.advance(Duration.ofSeconds(119));
        assertThat(registry.pruneStale(ticker.read())).isZero();
        ticker.advance(Duration.ofSeconds(2));
        assertThat(registry.pruneStale(ticker.read())).isEqualTo(2);
    }

    @Test
    void shouldTellListenersOfEveryChangeInOrder() {
        List<RegistryEvent> events = new ArrayList<>();
        registry.addListener(events::add);
        Endpoint a = endpoint("10.0.0.1", 80, "a", Duration.ZERO);
        Endpoint a2 = endpoint("10.0.0.1", 80, "a2", Duration.ZERO);
        Endpoint b = Endpoint.of("10.0.0.2", 80);

        registry.register(APP, a);
        registry.register(APP, a);
        registry.register(APP, b);
        registry.register(APP, a2);
        registry.unregister(APP, "10.0.0.2:80");
        ticker.advance(Duration.ofSeconds(121));
        registry.pruneStale(ticker.read());

        assertThat(events).extracting(RegistryEvent::type, RegistryEvent::route, RegistryEvent::endpoint)
                .containsExactly(
                        tuple(ROUTE_ADDED, APP, null),
                        tuple(ENDPOINT_ADDED, APP, a),
                        tuple(ENDPOINT_ADDED, APP, b),
                        tuple(ENDPOINT_UPDATED, APP, a2),
                        tuple(ENDPOINT_REMOVED, APP, b),
                        tuple(ENDPOINT_PRUNED, APP, a2),
                        tuple(ROUTE_REMOVED, APP, null));
    }

    @Test
    void shouldTellListenersAfterTheChangeIsVisibleAndWithNoLockHeld() {
        List<String> seen = new ArrayList<>();
        registry.addListener(event -> {
            Route route = registry.lookup("app.com", "/");
            seen.add(event.type() + ":" + (route == null ? 0 : route.endpoints().size()));
            // Another thread can write meanwhile: the registry holds no lock while telling listeners.
            if (event.type() == ROUTE_ADDED) {
                CompletableFuture.runAsync(() -> registry.register(API, Endpoint.of("10.0.0.9", 80)))
                        .orTimeout(10, TimeUnit.SECONDS).join();
            }
        });

        registry.register(APP, Endpoint.of("10.0.0.1", 80));
        registry.unregister(APP, "10.0.0.1:80");

        assertThat(seen).startsWith("ROUTE_ADDED:1").contains("ENDPOINT_REMOVED:0", "ROUTE_REMOVED:0");
        assertThat(registry.snapshot()).containsOnlyKeys(API);
    }

    @Test
    void shouldKeepTellingOtherListenersWhenOneThrows() {
        List<RegistryEvent> events = new ArrayList<>();
        registry.addListener(event -> {
            throw new IllegalStateException("listener bug");
        });
        registry.addListener(events::add);

        registry.register(APP, Endpoint.of("10.0.0.1", 80));

        assertThat(events).hasSize(2);
        assertThat(registry.routeCount()).isEqualTo(1);
    }

    @Test
    void shouldStopTellingARemovedListener() {
        List<RegistryEvent> events = new ArrayList<>();
        RegistryListener listener = events::add;
        registry.addListener(listener);
        registry.removeListener(listener);

        registry.register(APP, Endpoint.of("10.0.0.1", 80));

        assertThat(events).isEmpty();
    }

    @Test
    void shouldCountRoutesAndDistinctEndpoints() {
        registry.register(new RouteRegistration(Endpoint.of("10.0.0.1", 80),
                List.of(APP, API, RouteKey.parse("*.app.com"))));
        registry.register(API, Endpoint.of("10.0.0.2", 80));

        assertThat(registry.routeCount()).isEqualTo(3);
        assertThat(registry.endpointCount()).isEqualTo(2);
    }

    @Test
    void shouldRecordTheTimeOfTheLastUpdate() {
        assertThat(registry.lastUpdateNanos()).isEqualTo(Long.MIN_VALUE);
        registry.register(APP, Endpoint.of("10.0.0.1", 80));
        assertThat(registry.lastUpdateNanos()).isEqualTo(ticker.read());

        ticker.advance(Duration.ofSeconds(5));
        registry.unregister(APP, "10.0.0.1:80");

        assertThat(registry.lastUpdateNanos()).isEqualTo(ticker.read());
    }

    @Test
    void shouldTakeAnImmutableSnapshotSortedByKey() {
        registry.register(API, Endpoint.of("10.0.0.2", 80));
        registry.register(APP, Endpoint.of("10.0.0.1", 80));

        Map<RouteKey, List<RouteEndpoint>> snapshot = registry.snapshot();
        registry.register(RouteKey.parse("later.com"), Endpoint.of("10.0.0.3", 80));
        registry.unregister(APP, "10.0.0.1:80");

        assertThat(snapshot.keySet()).containsExactly(APP, API);
        assertThat(snapshot.get(APP)).extracting(e -> e.endpoint().address()).containsExactly("10.0.0.1:80");
        assertThatThrownBy(() -> snapshot.put(APP, List.of())).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> snapshot.get(API).clear()).isInstanceOf(UnsupportedOperationException.class);
    }
}
