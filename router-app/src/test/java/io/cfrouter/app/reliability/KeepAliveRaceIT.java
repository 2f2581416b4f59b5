package io.cfrouter.app.reliability;

import io.cfrouter.testsupport.HttpExchange;
import io.cfrouter.testsupport.NatsServerProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The keep-alive race: the backend closes idle connections after exactly 1 s and requests arrive just
 * before, at and just after that moment, from 16 clients. A GET that meets a connection the backend is closing must be
 * retried on a fresh one, never answered with 502. Runs 10 s by default; the 30 s with
 * {@code -Dcfrouter.reliability.keepAliveRaceSeconds=30}.
 */
class KeepAliveRaceIT {

    private static String host(int client) {
        return "race-" + client + ".example.com";
    }
    private static final int BACKEND_IDLE_MS = 1_000;
    private static final Duration DURATION =
            Duration.ofSeconds(Integer.getInteger("cfrouter.reliability.keepAliveRaceSeconds", 10));
    /**
     * Gaps between a response and the next request, relative to the backend's idle timeout, in µs. The
     * request reaches the backend about a millisecond after the gap (two loopback hops), so the sweep is
     * centred just below the timeout, in quarter-millisecond steps, with a few wider ones.
     */
    private static final int[] OFFSETS_MICROS = {-20_000, -3_000, -2_750, -2_500, -2_250, -2_000, -1_750, -1_500,
        -1_250, -1_000, -750, -500, -250, 0, 250, 500, 1_000, 20_000};
    private static final int CLIENTS = 16;

    private NatsServerProcess nats;
    /** One backend (so one connection pool) per client: each request's connection has idled exactly its gap. */
    private final List<RawBackend> backends = new ArrayList<>();
    private RouterProcess router;

    @BeforeEach
    void start() {
        nats = NatsServerProcess.start();
        router = RouterProcess.start(nats.port(), "");
        for (int c = 0; c < CLIENTS; c++) {
            RawBackend backend = RawBackend.start((socket, in, out, b) -> {
                socket.setSoTimeout(BACKEND_IDLE_MS);
                while (b.readRequest(in) != null) {
                    out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.ISO_8859_1));
                    out.flush();
                }
            });
            backends.add(backend);
            router.route(nats.url(), host(c), backend.port(), "");
        }
    }

    @AfterEach
    void stop() {
        backends.forEach(RawBackend::close);
        RouterProcess.closeAll(router, nats);
    }

    @Test
    void shouldNeverAnswer502ToAGetThatMeetsAClosingIdleConnection() throws Exception {
        Map<String, AtomicInteger> outcomes = new ConcurrentHashMap<>();
        ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(CLIENTS);
        CountDownLatch finished = new CountDownLatch(CLIENTS);
        long end = System.nanoTime() + DURATION.toNanos();
        try {
            for (int c = 0; c < CLIENTS; c++) {
                int client = c;
                scheduler.schedule(new Runnable() {
                    int k = client * 3;

                    @Override
                    public void run() {
                        String outcome;
                        try {
                            HttpExchange.Response r = router.get(host(client), "/" + k);
                            outcome = Integer.toString(r.status());
                        } catch (UncheckedIOException e) {
                            outcome = "connection error: " + e.getCause();
                        }
                        outcomes.computeIfAbsent(outcome, o -> new AtomicInteger()).incrementAndGet();
                        if (System.nanoTime() - end >= 0) {
                            finished.countDown();
                            return;
                        }
                        long gap = BACKEND_IDLE_MS * 1_000L + OFFSETS_MICROS[k++ % OFFSETS_MICROS.length];
                        scheduler.schedule(this, gap, TimeUnit.MICROSECONDS);
                    }
                }, c * 60L, TimeUnit.MILLISECONDS);
            }
            assertThat(finished.await(DURATION.toSeconds() + 60, TimeUnit.SECONDS)).isTrue();
        } finally {
            scheduler.shutdownNow();
        }

        int total = outcomes.values().stream().mapToInt(AtomicInteger::get).sum();
        assertThat(total).isGreaterThanOrEqualTo(CLIENTS * (int) (DURATION.toSeconds() - 1));
        assertThat(outcomes.keySet()).as("outcomes (count each): " + outcomes).isEqualTo(java.util.Set.of("200"));
        assertThat(backends.get(0).accepted()).as("the backend closed idle connections, so new ones were opened")
                .isGreaterThan(1);
    }
}
