package io.cfrouter.app.reliability;

import io.cfrouter.testsupport.NatsServerProcess;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Slowloris: connections that send their request head a byte a second are closed once the header-read
 * timeout has passed, while normal traffic's p99 stays within twice its unloaded value. 200 connections
 * by default (the 2 000 with {@code -Dcfrouter.reliability.slowloris=2000}).
 */
class SlowlorisIT {

    private static final String HOST = "busy.example.com";
    private static final int CONNECTIONS = Integer.getInteger("cfrouter.reliability.slowloris", 200);
    private static final Duration HEADER_TIMEOUT = Duration.ofSeconds(2);
    /** Below this, loopback latency is scheduling noise on a shared machine: compare against at least this. */
    private static final long P99_FLOOR_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    private NatsServerProcess nats;
    private Backend backend;
    private RouterProcess router;
    private final List<RawClient> slow = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() {
        nats = NatsServerProcess.start();
        backend = Backend.named("busy");
        router = RouterProcess.start(nats.port(), "read_header_timeout = " + HEADER_TIMEOUT.toMillis() + "ms\n");
        router.route(nats.url(), HOST, backend.port(), "");
    }

    @AfterEach
    void stop() {
        slow.forEach(RawClient::close);
        RouterProcess.closeAll(router, backend, nats);
    }

    private long p99Nanos(int requests) {
        long[] took = new long[requests];
        for (int i = 0; i < requests; i++) {
            long start = System.nanoTime();
            assertThat(router.get(HOST, "/" + i).status()).isEqualTo(200);
            took[i] = System.nanoTime() - start;
        }
        Arrays.sort(took);
        return took[(int) Math.ceil(requests * 0.99) - 1];
    }

    @Test
    void shouldCloseSlowHeadersAfterTheTimeoutWhileNormalTrafficFlows() {
        p99Nanos(200);
        long unloaded = p99Nanos(500);

        long opened = System.nanoTime();
        for (int i = 0; i < CONNECTIONS; i++) {
            slow.add(new RawClient(router.proxyPort()).write("GET / HTTP/1.1\r\nHost: " + HOST + "\r\nX-Slow: "));
        }
        List<RawClient> dripping = new CopyOnWriteArrayList<>(slow);
        ScheduledExecutorService drip = Executors.newSingleThreadScheduledExecutor();
        drip.scheduleAtFixedRate(() -> {
            for (RawClient client : dripping) {
                try {
                    client.write("a");
                } catch (UncheckedIOException closed) {
                    dripping.remove(client);
                }
            }
        }, 1, 1, TimeUnit.SECONDS);
        long loaded;
        List<Integer> stillOpen = new ArrayList<>();
        try {
            loaded = p99Nanos(500);
            long deadline = opened + HEADER_TIMEOUT.plusSeconds(5).toNanos();
            for (int i = 0; i < slow.size(); i++) {
                long left = Math.max(1, Duration.ofNanos(deadline - System.nanoTime()).toMillis());
                if (!slow.get(i).closedWithin(Duration.ofMillis(left))) {
                    stillOpen.add(i);
                }
            }
        } finally {
            drip.shutdownNow();
        }

        SoftAssertions softly = new SoftAssertions();
        softly.assertThat(stillOpen.size()).as("slow connections still open %s after the header timeout of %s",
                Duration.ofSeconds(5), HEADER_TIMEOUT).isZero();
        softly.assertThat(Duration.ofNanos(loaded)).as("p99 under slowloris (unloaded: %s)", Duration.ofNanos(unloaded))
                .isLessThanOrEqualTo(Duration.ofNanos(2 * Math.max(unloaded, P99_FLOOR_NANOS)));
        softly.assertThat(router.get(HOST, "/after").status()).isEqualTo(200);
        softly.assertAll();
    }
}
