package io.cfrouter.nats;

import io.cfrouter.core.RouteRegistration;
import io.cfrouter.registry.RouteRegistry;
import io.cfrouter.testsupport.NatsServerProcess;
import io.nats.client.Connection;
import org.HdrHistogram.Histogram;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Measures the NATS path against a real nats-server: registrations applied to the table per second from
 * one publisher, and the time from publishing a registration to finding its route with 100 000 routes in
 * the table. Also the two costs inside, on one thread without NATS: decoding, and applying to the registry
 * (CPU time and bytes allocated per message). Not a test: run by hand, see docs/performance.md, "NATS".
 *
 * <p>Arguments (all optional): messages per round (default 1 000 000), rounds (3), latency samples (20 000);
 * {@code N 0 0} measures only the costs, without NATS.
 * The machine is shared: CPU-time figures (per CPU-second of the threads doing the work) are steadier than
 * wall-clock ones, and both are printed.
 */
final class NatsRegistrationBenchmark {

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private NatsRegistrationBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int messages = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        int samples = args.length > 2 ? Integer.parseInt(args[2]) : 20_000;
        System.out.printf(Locale.ROOT, "java %s, %d cores, load average %.1f%n", System.getProperty("java.version"),
                Runtime.getRuntime().availableProcessors(),
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        costs(Math.min(messages, 200_000), 10);
        if (rounds == 0 && samples == 0) {
            return;
        }
        try (NatsServerProcess nats = NatsServerProcess.start()) {
            for (int round = 1; round <= rounds; round++) {
                throughput(nats, messages, round);
            }
            latency(nats, samples);
        }
    }

    /** A registration as the platform sends it (the reference example's fields), for a distinct route. */
    private static byte[][] payloads(int n, String prefix) {
        byte[][] out = new byte[n][];
        for (int i = 0; i < n; i++) {
            out[i] = ("{\"host\":\"10." + (i >> 16 & 0xff) + "." + (i >> 8 & 0xff) + "." + (i & 0xff)
                    + "\",\"port\":8080,\"uris\":[\"" + prefix + i + ".apps.example.com\"],"
                    + "\"tags\":{\"component\":\"dea-1\"},\"app\":\"some_app_guid\","
                    + "\"private_instance_id\":\"some_app_instance_id\",\"private_instance_index\":\"0\"}")
                    .getBytes(StandardCharsets.UTF_8);
        }
        return out;
    }

    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) THREADS).getThreadAllocatedBytes(Thread.currentThread().getId());
    }

    /** Decoding alone and applying alone, on this thread: best of {@code rounds}. */
    private static void costs(int n, int rounds) {
        byte[][] payloads = payloads(n, "cost-");
        double decodeRate = 0;
        double applyRate = 0;
        long decodeBytes = 0;
        long applyBytes = 0;
        RouteRegistration[] decoded = new RouteRegistration[n];
        for (int round = 0; round < rounds; round++) {
            long cpu = THREADS.getCurrentThreadCpuTime();
            long allocated = allocatedBytes();
            for (int i = 0; i < n; i++) {
                decoded[i] = RegistryMessageDecoder.decode(payloads[i], w -> { }).registration();
            }
            decodeRate = Math.max(decodeRate, n / ((THREADS.getCurrentThreadCpuTime() - cpu) / 1e9));
            decodeBytes = (allocatedBytes() - allocated) / n;

            RouteRegistry registry = RouteRegistry.builder().build();
            cpu = THREADS.getCurrentThreadCpuTime();
            allocated = allocatedBytes();
            for (RouteRegistration r : decoded) {
                registry.register(r);
            }
            applyRate = Math.max(applyRate, n / ((THREADS.getCurrentThreadCpuTime() - cpu) / 1e9));
            applyBytes = (allocatedBytes() - allocated) / n;
        }
        System.out.printf(Locale.ROOT, "decode alone: %,.0f msgs per CPU-second, %,d bytes allocated per message%n",
                decodeRate, decodeBytes);
        System.out.printf(Locale.ROOT, "registry.register alone (new routes, table growing to %,d): %,.0f msgs per "
                + "CPU-second, %,d bytes allocated per message%n", n, applyRate, applyBytes);
    }

    /**
     * CPU time of the router's NATS threads (jnats names them after the connection: the reader, and the
     * dispatcher where decoding and applying happen), in nanoseconds. GC threads are not included.
     */
    private static long routerThreadsCpuNanos() {
        long total = 0;
        for (ThreadInfo info : THREADS.getThreadInfo(THREADS.getAllThreadIds())) {
            if (info != null && info.getThreadName().startsWith("cf-router " + RouterUnderTest.ROUTER_ID)) {
                total += Math.max(0, THREADS.getThreadCpuTime(info.getThreadId()));
            }
        }
        return total;
    }

    private static void throughput(NatsServerProcess nats, int n, int round) throws Exception {
        byte[][] payloads = payloads(n, "r" + round + "-");
        try (RouterUnderTest router = RouterUnderTest.on(nats.port()).start();
             Connection publisher = RouterUnderTest.platform(nats.url())) {
            long cpuBefore = routerThreadsCpuNanos();
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
            double cpu = (routerThreadsCpuNanos() - cpuBefore) / 1e9;
            NatsStats stats = router.adapter.stats();
            System.out.printf(Locale.ROOT, "round %d: %,d registrations applied in %.2f s = %,.0f msgs/s applied, "
                            + "wall clock (publisher done after %.2f s); router's NATS threads used %.2f CPU-s = "
                            + "%,.0f msgs per CPU-second; routes %,d, dropped %d, invalid %d%n",
                    round, n, (applied - start) / 1e9, router.registry.routeCount() / ((applied - start) / 1e9),
                    (published - start) / 1e9, cpu, n / cpu, router.registry.routeCount(),
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
                LockSupport.parkNanos(1_000_000);
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
            System.out.printf(Locale.ROOT, "publish -> route found, %,d+ routes in the table, %,d samples (one at a "
                            + "time): p50 %.1f us, p90 %.1f us, p99 %.1f us, p99.9 %.1f us, max %.1f us%n",
                    tableSize, histogram.getTotalCount(),
                    histogram.getValueAtPercentile(50) / 1e3, histogram.getValueAtPercentile(90) / 1e3,
                    histogram.getValueAtPercentile(99) / 1e3, histogram.getValueAtPercentile(99.9) / 1e3,
                    histogram.getMaxValue() / 1e3);
        }
    }
}
