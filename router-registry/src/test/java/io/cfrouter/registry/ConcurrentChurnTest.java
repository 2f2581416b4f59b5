package io.cfrouter.registry;

import io.cfrouter.core.Endpoint;
import io.cfrouter.core.RouteKey;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Lookups racing writers: what a reader sees is always a whole, correct answer. */
class ConcurrentChurnTest {

    private static final int CHURN = 2_000;

    @Test
    void shouldAlwaysFindStableRoutesWhileOthersComeAndGoAndArePruned() throws Exception {
        FakeTicker ticker = new FakeTicker();
        RouteRegistry registry = RouteRegistry.builder().ticker(ticker).staleThreshold(Duration.ofSeconds(120))
                .build();
        RouteKey stableHost = RouteKey.parse("stable.example.com");
        RouteKey stablePath = RouteKey.parse("churn-0.example.com/stable");
        RouteKey stableWildcard = RouteKey.parse("*.wild.example.com");
        for (RouteKey key : List.of(stableHost, stablePath, stableWildcard)) {
            registry.register(key, Endpoint.of("10.1.0.1", 80));
        }

        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            for (int round = 0; round < 5; round++) {
                for (int i = 0; i < CHURN; i++) {
                    registry.register(RouteKey.parse("churn-" + i % 50 + ".example.com/p" + i),
                            Endpoint.of("10.2." + i % 200 + "." + round, 80));
                    registry.register(RouteKey.parse("h" + i + ".wild.example.com"), Endpoint.of("10.3.0.1", 80));
                }
                for (int i = 0; i < CHURN; i += 2) {
                    registry.unregister(RouteKey.parse("h" + i + ".wild.example.com"), "10.3.0.1:80");
                }
                // Everything but the stable routes goes stale; those re-register just in time.
                ticker.advance(Duration.ofSeconds(100));
                for (RouteKey key : List.of(stableHost, stablePath, stableWildcard)) {
                    registry.register(key, Endpoint.of("10.1.0.1", 80));
                }
                ticker.advance(Duration.ofSeconds(100));
                registry.pruneStale(ticker.read());
            }
        });
        List<CompletableFuture<Integer>> readers = new ArrayList<>();
        for (int r = 0; r < 2; r++) {
            readers.add(CompletableFuture.supplyAsync(() -> {
                int misses = 0;
                int n = 0;
                while (!writer.isDone() || n < 10_000) {
                    n++;
                    Route host = registry.lookup("Stable.Example.com:443", "/x");
                    Route path = registry.lookup("churn-0.example.com", "/stable/deeper?q");
                    Route wild = registry.lookup("a.b.wild.example.com", "/");
                    misses += host != null && host.key().equals(stableHost) ? 0 : 1;
                    misses += path != null && path.key().equals(stablePath) ? 0 : 1;
                    misses += wild != null && wild.key().equals(stableWildcard) ? 0 : 1;
                    registry.lookup("churn-" + n % 50 + ".example.com", "/p" + n % CHURN);
                }
                return misses;
            }));
        }

        writer.get(60, TimeUnit.SECONDS);
        for (CompletableFuture<Integer> reader : readers) {
            assertThat(reader.get(60, TimeUnit.SECONDS)).isZero();
        }
        assertThat(registry.snapshot()).containsOnlyKeys(stableHost, stablePath, stableWildcard);
        assertThat(registry.routeCount()).isEqualTo(3);
        assertThat(registry.endpointCount()).isEqualTo(1);
    }

    @Test
    void shouldFindTheDeepestPathRouteWhileDepthsOfThisAndOtherHostsComeAndGo() throws Exception {
        RouteRegistry registry = RouteRegistry.builder().ticker(new FakeTicker()).build();
        Endpoint endpoint = Endpoint.of("10.1.0.1", 80);
        // Stable: a host's 1- and 3-segment routes, the only ones of their depths at times; another host's
        // shallow route, under which a 3-segment route comes and goes.
        RouteKey deep = RouteKey.parse("deep.example.com/a/b/c");
        RouteKey shallow = RouteKey.parse("deep.example.com/a");
        RouteKey flickerBase = RouteKey.parse("flicker.example.com/a");
        RouteKey flicker = RouteKey.parse("flicker.example.com/a/b/c");
        for (RouteKey key : List.of(deep, shallow, flickerBase)) {
            registry.register(key, endpoint);
        }

        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            for (int i = 0; i < 20_000; i++) {
                registry.register(flicker, endpoint);
                // Other hosts' depths 2 and 4 appear and disappear (the union of depths changes).
                RouteKey other = RouteKey.parse("other-" + i % 7 + ".example.com/x" + "/y".repeat(i % 2 * 2 + 1));
                registry.register(other, endpoint);
                registry.unregister(flicker, "10.1.0.1:80");
                registry.unregister(other, "10.1.0.1:80");
            }
        });
        CompletableFuture<Integer> reader = CompletableFuture.supplyAsync(() -> {
            int wrong = 0;
            for (int n = 0; !writer.isDone() || n < 10_000; n++) {
                Route d = registry.lookup("deep.example.com", "/a/b/c/d");
                Route f = registry.lookup("FLICKER.example.com", "/a/b/c/d");
                wrong += d != null && d.key().equals(deep) ? 0 : 1;
                wrong += f != null && (f.key().equals(flicker) || f.key().equals(flickerBase)) ? 0 : 1;
            }
            return wrong;
        });

        writer.get(60, TimeUnit.SECONDS);
        assertThat(reader.get(60, TimeUnit.SECONDS)).isZero();
        assertThat(registry.lookup("flicker.example.com", "/a/b/c/d").key()).isEqualTo(flickerBase);
        assertThat(registry.lookup("deep.example.com", "/a/b/x").key()).isEqualTo(shallow);
    }
}
