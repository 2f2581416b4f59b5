package io.cfrouter.registry;

import io.cfrouter.core.Endpoint;
import io.cfrouter.core.RouteKey;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Prunes 100 000 stale endpoints while another thread looks routes up without pause, and prints how long
 * the sweep took (wall clock, and CPU time of the sweeping thread: on a shared machine the thread may wait
 * for a core) and how long lookups took meanwhile (every lookup timed, in power-of-two buckets).
 * Not a test: run it with the bench profile (see docs/performance.md, ## Registry).
 */
public final class PruneUnderLoadHarness {

    private static final int ROUTES = 100_000;
    private static final int ROUNDS = 5;

    private PruneUnderLoadHarness() {
    }

    public static void main(String[] args) throws InterruptedException {
        RouteKey[] keys = new RouteKey[ROUTES];
        Endpoint[] endpoints = new Endpoint[ROUTES];
        String[][] requests = new String[ROUTES][];
        for (int i = 0; i < ROUTES; i++) {
            keys[i] = BenchmarkTables.key(i);
            endpoints[i] = BenchmarkTables.endpoint(i);
            requests[i] = BenchmarkTables.request(i);
        }
        for (int round = 1; round <= ROUNDS; round++) {
            FakeTicker ticker = new FakeTicker();
            RouteRegistry registry = RouteRegistry.builder().ticker(ticker).build();
            for (int i = 0; i < ROUTES; i++) {
                registry.register(keys[i], endpoints[i]);
            }
            ticker.advance(Duration.ofSeconds(121));

            long[] buckets = new long[64];
            long[] max = new long[1];
            long[] count = new long[1];
            AtomicBoolean sweeping = new AtomicBoolean(true);
            CountDownLatch looking = new CountDownLatch(1);
            Thread looker = new Thread(() -> {
                int i = 0;
                long hits = 0;
                looking.countDown();
                while (sweeping.get()) {
                    String[] request = requests[i];
                    i = i + 7919 >= ROUTES ? i + 7919 - ROUTES : i + 7919;
                    long start = System.nanoTime();
                    Route route = registry.lookup(request[0], request[1]);
                    long took = System.nanoTime() - start;
                    hits += route == null ? 0 : 1;
                    buckets[64 - Long.numberOfLeadingZeros(took)]++;
                    max[0] = Math.max(max[0], took);
                    count[0]++;
                }
                if (hits < 0) {
                    System.out.println(hits);
                }
            }, "looker");
            looker.start();
            looking.await();
            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            long cpuStart = threads.getCurrentThreadCpuTime();
            long start = System.nanoTime();
            int pruned = registry.pruneStale(ticker.read());
            long sweep = System.nanoTime() - start;
            long sweepCpu = threads.getCurrentThreadCpuTime() - cpuStart;
            sweeping.set(false);
            looker.join();

            System.out.printf("round %d: pruned %d endpoints in %.1f ms (%.1f ms on CPU); %d lookups meanwhile: "
                            + "p50 <= %s, p99 <= %s, p99.9 <= %s, max %.3f ms; routes left %d%n", round, pruned,
                    sweep / 1e6, sweepCpu / 1e6,
                    count[0], percentile(buckets, count[0], 0.5), percentile(buckets, count[0], 0.99),
                    percentile(buckets, count[0], 0.999), max[0] / 1e6, registry.routeCount());
        }
    }

    private static String percentile(long[] buckets, long count, double p) {
        long seen = 0;
        for (int b = 0; b < buckets.length; b++) {
            seen += buckets[b];
            if (seen >= Math.ceil(count * p)) {
                return (1L << b) + " ns";
            }
        }
        return "?";
    }
}
