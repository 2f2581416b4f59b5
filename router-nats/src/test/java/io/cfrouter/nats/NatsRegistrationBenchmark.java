package io.cfrouter.nats;

import io.cfrouter.core.RouteRegistration;
import io.cfrouter.testsupport.NatsServerProcess;
import io.nats.client.Connection;
import org.HdrHistogram.Histogram;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Measures the NATS path end to end against a real nats-server: registrations applied to the table per
 * second from one publisher, and the time from publishing a registration to finding its route, with
 * 100 000 routes in the table. Not a test; run by hand (see docs/performance.md, section NATS).
 *
 * <p>Arguments (all optional): {@code messages} (default 1 000 000), {@code rounds} (3),
 * {@code latencySamples} (20 000).
 */
final class NatsRegistrationBenchmark {

    private NatsRegistrationBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int messages = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        int samples = args.length > 2 ? Integer.parseInt(args[2]) : 20_000;
        System.out.printf(Locale.ROOT, "java %s, %d cores%n", System.getProperty("java.version"),
                Runtime.getRuntime().availableProcessors());
        decodeOnly(messages);
        decodeAndApply(messages);
        try (NatsServerProcess nats = NatsServerProcess.start()) {
            for (int round = 1; round <= rounds; round++) {
                throughput(nats, messages, round);
            }
            latency(nats, samples);
        }
    }

    private static byte[][] payloads(int n, String prefix) {
        byte[][] out = new byte[n][];
        for (int i = 0; i < n; i++) {
            out[i] = RouterUnderTest.register("10." + (i >> 16 & 0xff) + "." + (i >> 8 & 0xff) + "." + (i & 0xff),
                    8080, prefix + i + ".apps.example.com");
        }
        return out;
    }

    /** The decoder alone, on one thread: the floor under everything else. */
    private static void decodeOnly(int n) {
        byte[][] payloads = payloads(n, "decode-");
        long sink = 0;
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        for (int round = 0; round < 3; round++) {
            long cpu = threads.getCurrentThreadCpuTime();
            long start = System.nanoTime();
            for (byte[] p : payloads) {
                RouteRegistration r = RegistryMessageDecoder.decode(p, w -> { }).registration();
                sink += r.endpoint().port();
            }
            long elapsed = System.nanoTime() - start;
            cpu = threads.getCurrentThreadCpuTime() - cpu;
            System.out.printf(Locale.ROOT, "decode only, round %d: %,.0f msgs/s wall, %,.0f msgs per CPU-second%s%n",
                    round + 1, n / (elapsed / 1e9), n / (cpu / 1e9), sink == 42 ? "" : "");
        }
    }

    /**
     * CPU time of the router's NATS threads (jnats names them after the connection: reader, dispatcher
     * where decoding and applying happen, ...), in nanoseconds.
     */
    private static long dispatcherCpuNanos() {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long total = 0;
        for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (info != null && info.getThreadName().startsWith("cf-router " + RouterUnderTest.ROUTER_ID)) {
                total += Math.max(0, threads.getThreadCpuTime(info.getThreadId()));
            }
        }
        return total;
    }

    /** Decoding and applying to a registry, on one thread, without NATS. */
    private static void decodeAndApply(int n) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        for (int round = 0; round < 3; round++) {
            byte[][] payloads = payloads(n, "apply-" + round + "-");
            io.cfrouter.registry.RouteRegistry registry = io.cfrouter.registry.RouteRegistry.builder().build();
            long cpu = threads.getCurrentThreadCpuTime();
            long start = System.nanoTime();
            for (byte[] p : payloads) {
                registry.register(RegistryMessageDecoder.decode(p, w -> { }).registration());
            }
            long elapsed = System.nanoTime() - start;
            cpu = threads.getCurrentThreadCpuTime() - cpu;
            System.out.printf(Locale.ROOT, "decode + apply without NATS, round %d: %,.0f msgs/s wall, %,.0f msgs "
                    + "per CPU-second%n", round + 1, n / (elapsed / 1e9), n / (cpu / 1e9));
        }
    }

    private static void throughput(NatsServerProcess nats, int n, int round) throws Exception {
        byte[][] payloads = payloads(n, "r" + round + "-");
        try (RouterUnderTest router = RouterUnderTest.on(nats.port()).start();
             Connection publisher = RouterUnderTest.platform(nats.url())) {
            long cpuBefore = dispatcherCpuNanos();
            long start = System.nanoTime();
            for (byte[] p : payloads) {
                publisher.publish("router.register", p);
            }
            publisher.flush(Duration.ofSeconds(60));
            long published = System.nanoTime();
            long deadline = start + TimeUnit.MINUTES.toNanos(5);
            while (router.registry.routeCount() < n && System.nanoTime() < deadline) {
                LockSupport.parkNanos(1_000_000); // poll without taking a core from the router
            }
            long applied = System.nanoTime();
            long cpu = dispatcherCpuNanos() - cpuBefore;
            NatsStats stats = router.adapter.stats();
            System.out.printf(Locale.ROOT, "round %d: router's NATS threads' CPU %.2f s = %,.0f msgs per CPU-second%n",
                    round, cpu / 1e9, n / (cpu / 1e9));
            System.out.printf(Locale.ROOT, "round %d: %,d registrations applied in %.2f s = %,.0f msgs/s applied "
                            + "(publisher done after %.2f s = %,.0f msgs/s); routes %,d, dropped %d, invalid %d%n",
                    round, n, (applied - start) / 1e9, router.registry.routeCount() / ((applied - start) / 1e9),
                    (published - start) / 1e9, n / ((published - start) / 1e9), router.registry.routeCount(),
                    stats.droppedMessages(), stats.invalidMessages());
        }
    }

    private static void latency(NatsServerProcess nats, int samples) throws Exception {
        int tableSize = 100_000;
        byte[][] fill = payloads(tableSize, "fill-");
        byte[][] probes = payloads(samples, "probe-");
        try (RouterUnderTest router = RouterUnderTest.on(nats.port()).start();
             Connection publisher = RouterUnderTest.platform(nats.url())) {
            for (byte[] p : fill) {
                publisher.publish("router.register", p);
            }
            publisher.flush(Duration.ofSeconds(60));
            while (router.registry.routeCount() < tableSize) {
                Thread.onSpinWait();
            }
            Histogram histogram = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
            int warmup = Math.min(5_000, samples / 4);
            for (int i = 0; i < samples; i++) {
                String host = "probe-" + i + ".apps.example.com";
                long start = System.nanoTime();
                publisher.publish("router.register", probes[i]);
                publisher.flushBuffer();
                while (router.registry.lookup(host, "/") == null) {
                    Thread.onSpinWait();
                }
                long took = System.nanoTime() - start;
                if (i >= warmup) {
                    histogram.recordValue(took);
                }
            }
            System.out.printf(Locale.ROOT, "publish -> route found, %,d routes in the table, %,d samples: "
                            + "p50 %.1f us, p90 %.1f us, p99 %.1f us, p99.9 %.1f us, max %.1f us%n",
                    router.registry.routeCount(), histogram.getTotalCount(),
                    histogram.getValueAtPercentile(50) / 1e3, histogram.getValueAtPercentile(90) / 1e3,
                    histogram.getValueAtPercentile(99) / 1e3, histogram.getValueAtPercentile(99.9) / 1e3,
                    histogram.getMaxValue() / 1e3);
        }
    }

}
