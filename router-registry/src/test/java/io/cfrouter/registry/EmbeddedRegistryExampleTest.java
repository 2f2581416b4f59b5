package io.cfrouter.registry;

import io.cfrouter.core.Endpoint;
import io.cfrouter.core.RouteKey;
import io.cfrouter.core.Ticker;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A runnable example of embedding the registry in a plain Java service, with no router around it: the
 * service owns the registry and the scheduler that prunes it.
 */
class EmbeddedRegistryExampleTest {

    /** The example: a service that keeps a table of backends announced to it and forgets silent ones. */
    static final class BackendDirectory implements AutoCloseable {

        private static final Logger LOGGER = LogManager.getLogger();

        private final Ticker ticker;
        private final RouteRegistry registry;
        private final ScheduledExecutorService pruner = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "backend-directory-pruner");
            t.setDaemon(true);
            return t;
        });

        BackendDirectory(Ticker ticker, Duration staleThreshold, Duration pruneInterval) {
            this.ticker = ticker;
            this.registry = RouteRegistry.builder()
                    .ticker(ticker)
                    .staleThreshold(staleThreshold)
                    .build();
            long interval = pruneInterval.toMillis();
            pruner.scheduleWithFixedDelay(this::prune, interval, interval, TimeUnit.MILLISECONDS);
        }

        /** A backend says it serves {@code uri}; call again before the threshold passes to stay listed. */
        void announce(String uri, String host, int port) {
            registry.register(RouteKey.parse(uri), Endpoint.of(host, port));
        }

        /** The backend to send a request for {@code host} and {@code path} to, chosen round-robin. */
        Optional<String> backendFor(String host, String path) {
            Route route = registry.lookup(host, path);
            if (route == null) {
                return Optional.empty();
            }
            RouteEndpoint endpoint = route.iterator(null).next();
            if (endpoint == null) {
                return Optional.empty();
            }
            try {
                return Optional.of(endpoint.endpoint().address());
            } finally {
                endpoint.release(); // a real service releases when its request ends
            }
        }

        void onChange(RegistryListener listener) {
            registry.addListener(listener);
        }

        private void prune() {
            // A periodic task must not throw: the executor would silently stop running it.
            try {
                int pruned = registry.pruneStale(ticker.read());
                if (pruned > 0) {
                    LOGGER.info("Pruned {} silent backends; {} routes left", pruned, registry.routeCount());
                }
            } catch (RuntimeException e) {
                LOGGER.warn("Pruning failed; trying again next time", e);
            }
        }

        @Override
        public void close() {
            pruner.shutdownNow();
        }
    }

    @Test
    void shouldRouteAnnouncedBackendsAndForgetThoseThatFallSilent() throws InterruptedException {
        FakeTicker ticker = new FakeTicker();
        try (BackendDirectory directory = new BackendDirectory(ticker, Duration.ofSeconds(30),
                Duration.ofMillis(5))) {
            CountDownLatch ordersForgotten = new CountDownLatch(1);
            directory.onChange(event -> {
                if (event.type() == RegistryEvent.Type.ROUTE_REMOVED
                        && event.route().key().equals("shop.example/orders")) {
                    ordersForgotten.countDown();
                }
            });
            directory.announce("shop.example", "10.0.0.1", 8080);
            directory.announce("shop.example/orders", "10.0.0.2", 8080);

            assertThat(directory.backendFor("Shop.Example:443", "/orders/17")).contains("10.0.0.2:8080");
            assertThat(directory.backendFor("shop.example", "/cart")).contains("10.0.0.1:8080");
            assertThat(directory.backendFor("elsewhere.example", "/")).isEmpty();

            ticker.advance(Duration.ofSeconds(20));
            directory.announce("shop.example", "10.0.0.1", 8080);
            ticker.advance(Duration.ofSeconds(20));

            assertThat(ordersForgotten.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(directory.backendFor("shop.example", "/orders/17")).contains("10.0.0.1:8080");
        }
    }
}
