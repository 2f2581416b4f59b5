package io.cfrouter.app.reliability;

import io.cfrouter.testsupport.Await;
import io.cfrouter.testsupport.HttpExchange;
import io.cfrouter.testsupport.NatsServerProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * NATS killed (SIGKILL) for longer than the stale threshold, then restarted: with pruning suspended no
 * request fails during or after the outage, and routes registered afterwards are served. The outage
 * lasts 8 s by default (the 60 s with {@code -Dcfrouter.reliability.natsOutageSeconds=60}); the
 * stale threshold is 3 s, so without suspension every route would be pruned during it.
 */
class NatsOutageIT {

    private static final String HOST = "steady.example.com";
    private static final Duration OUTAGE =
            Duration.ofSeconds(Integer.getInteger("cfrouter.reliability.natsOutageSeconds", 8));
    private static final Duration STALE_THRESHOLD = Duration.ofSeconds(3);

    private NatsServerProcess nats;
    private Backend backend;
    private Backend later;
    private RouterProcess router;
    private Registrar registrar;
    private ScheduledExecutorService emitter;
    private final Map<String, Integer> emitterFailures = new ConcurrentHashMap<>();

    @BeforeEach
    void start() {
        nats = NatsServerProcess.start();
        backend = Backend.named("steady");
        later = Backend.named("later");
        router = RouterProcess.start(nats.port(), """
                droplet_stale_threshold = %ds
                prune_stale_droplets_interval = 1s
                suspend_pruning_if_nats_unavailable = true
                """.formatted(STALE_THRESHOLD.toSeconds()));
        registrar = new Registrar(nats.url());
        // A route emitter re-announces every second, as applications do; its client buffers while NATS is down.
        emitter = Executors.newSingleThreadScheduledExecutor();
        emitter.scheduleAtFixedRate(() -> {
            try {
                registrar.register(HOST, backend.port(), "steady");
            } catch (RuntimeException e) {
                // An exception would cancel the schedule: record it and carry on, as a real emitter does.
                emitterFailures.merge(e.toString(), 1, Integer::sum);
            }
        }, 0, 1, TimeUnit.SECONDS);
        Await.value(Duration.ofSeconds(10), "the route", () -> router.get(HOST, "/"), r -> r.status() == 200);
    }

    @AfterEach
    void stop() {
        if (emitter != null) {
            emitter.shutdownNow();
        }
        RouterProcess.closeAll(registrar, router, backend, later, nats);
    }

    /** Sends requests back to back for {@code duration}; returns the count of each outcome. */
    private Map<String, Integer> load(Duration duration) {
        Map<String, Integer> outcomes = new TreeMap<>();
        long end = System.nanoTime() + duration.toNanos();
        for (int i = 0; i < 1_000_000 && System.nanoTime() - end < 0; i++) {
            String outcome;
            try {
                HttpExchange.Response r = router.get(HOST, "/" + i);
                outcome = r.status() + " " + r.bodyText().trim();
            } catch (UncheckedIOException e) {
                outcome = "connection error: " + e.getCause();
            }
            outcomes.merge(outcome, 1, Integer::sum);
        }
        return outcomes;
    }

    @Test
    void shouldServeEveryRequestThroughANatsOutageAndRefreshRoutesAfterIt() {
        nats.kill();
        Map<String, Integer> during = load(OUTAGE);
        nats.restart();
        Map<String, Integer> after = load(STALE_THRESHOLD.multipliedBy(2));

        assertThat(during.keySet()).as("outcomes during the outage: " + during).containsExactly("200 steady");
        assertThat(after.keySet()).as("outcomes after the restart: %s (emitter failures: %s; %s)", after,
                emitterFailures, router.status("/varz").bodyText()).containsExactly("200 steady");

        registrar.register("later.example.com", later.port(), "later");
        HttpExchange.Response fresh = Await.value(Duration.ofSeconds(15), "a route registered after the outage",
                () -> router.get("later.example.com", "/"), r -> r.status() == 200);
        assertThat(fresh.bodyText()).isEqualTo("later");
        assertThat(router.get(HOST, "/final").status()).isEqualTo(200);
    }
}
