package io.cfrouter.app.reliability;

import io.cfrouter.testsupport.Await;
import io.cfrouter.testsupport.HttpExchange;
import io.cfrouter.testsupport.NatsServerProcess;
import io.undertow.util.SameThreadExecutor;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * SIGTERM while load runs: health turns 503 at once, requests keep being served for {@code drain_wait},
 * every request that reached a backend is answered in full (no reset), and the router exits 0.
 */
class DrainUnderLoadIT {

    private static final String HOST = "drain.example.com";
    private static final int LOAD_THREADS = 8;
    private static final long BACKEND_DELAY_MS = 200;

    private NatsServerProcess nats;
    private Backend backend;
    private RouterProcess router;
    private final Set<String> reachedBackend = ConcurrentHashMap.newKeySet();

    @BeforeEach
    void start() {
        nats = NatsServerProcess.start();
        // Answers each request 200 ms after it arrived, without holding a thread.
        backend = Backend.start(exchange -> {
            String path = exchange.getRequestPath();
            reachedBackend.add(path);
            exchange.dispatch(SameThreadExecutor.INSTANCE, () -> exchange.getIoThread().executeAfter(
                    () -> exchange.getResponseSender().send("done " + path),
                    BACKEND_DELAY_MS, TimeUnit.MILLISECONDS));
        });
        router = RouterProcess.start(nats.port(), "drain_wait = 1s\ndrain_timeout = 10s\n");
        router.route(nats.url(), HOST, backend.port(), "");
    }

    @AfterEach
    void stop() {
        RouterProcess.closeAll(router, backend, nats);
    }

    @Test
    void shouldAnswerEveryAcceptedRequestWhileDrainingThenExitZero() throws Exception {
        Map<String, String> outcomes = new ConcurrentHashMap<>();
        AtomicInteger ids = new AtomicInteger();
        AtomicInteger completed = new AtomicInteger();
        AtomicLong signalledAt = new AtomicLong(Long.MAX_VALUE);
        AtomicInteger servedAfterSignal = new AtomicInteger();
        ExecutorService load = Executors.newFixedThreadPool(LOAD_THREADS);
        int exitCode;
        long hardStop = System.nanoTime() + Duration.ofSeconds(40).toNanos();
        for (int t = 0; t < LOAD_THREADS; t++) {
            load.execute(() -> {
                while (router.isAlive() && System.nanoTime() - hardStop < 0) {
                    String path = "/r/" + ids.incrementAndGet();
                    long sent = System.nanoTime();
                    try {
                        HttpExchange.Response r = router.get(HOST, path);
                        outcomes.put(path, r.status() + " " + r.bodyText());
                        completed.incrementAndGet();
                        if (r.status() == 200 && sent - signalledAt.get() > 0) {
                            servedAfterSignal.incrementAndGet();
                        }
                    } catch (UncheckedIOException e) {
                        outcomes.put(path, "error: " + e.getCause());
                    }
                }
            });
        }
        try {
            Await.until(Duration.ofSeconds(20), "load to run", () -> completed.get() >= 5 * LOAD_THREADS);
            signalledAt.set(System.nanoTime());
            router.terminate();
            Await.value(Duration.ofMillis(900), "/health to answer 503 while draining",
                    () -> HttpExchange.get(router.statusPort(), "localhost", "/health").status(), s -> s == 503);

            exitCode = router.awaitExit(Duration.ofSeconds(30));
        } finally {
            load.shutdown();
            assertThat(load.awaitTermination(40, TimeUnit.SECONDS)).isTrue();
        }

        SoftAssertions softly = new SoftAssertions();
        for (String path : reachedBackend) {
            softly.assertThat(outcomes.get(path)).as("answer to %s, which reached the backend", path)
                    .isEqualTo("200 done " + path);
        }
        softly.assertThat(servedAfterSignal.get()).as("requests sent and served during drain_wait").isPositive();
        softly.assertThat(exitCode).as("exit code after the drain").isZero();
        softly.assertAll();
    }
}
