package io.cfrouter.registry;

import io.cfrouter.core.Endpoint;
import io.cfrouter.core.RouteKey;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

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

            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            Looker during = new Looker(registry, requests);
            during.start();
            long cpuStart = threads.getCurrentThreadCpuTime();
            long start = System.nanoTime();
            int pruned = registry.pruneStale(ticker.read());
            long sweep = System.nanoTime() - start;
            long sweepCpu = threads.getCurrentThreadCpuTime() - cpuStart;
            during.finish();

            // The control: the same lookups for as long, with no sweep. What the machine does to a thread
            // that never waits for anything (being descheduled, collections) shows up here as well.
            ticker = new FakeTicker();
            RouteRegistry control = RouteRegistry.builder().ticker(ticker).build();
            for (int i = 0; i < ROUTES; i++) {
                control.register(keys[i], endpoints[i]);
            }
            Looker alone = new Looker(control, requests);
            alone.start();
            long until = System.nanoTime() + sweep;
            while (System.nanoTime() - until < 0) {
                Thread.onSpinWait();
            }
            alone.finish();

            System.out.printf("round %d: pruned %d endpoints in %.1f ms (%.1f ms on CPU), routes left %d%n"
                            + "  lookups during the sweep: %s%n  lookups without a sweep:  %s%n", round, pruned,
                    sweep / 1e6, sweepCpu / 1e6, registry.routeCount(), during, alone);
        }
    }

    /** A thread that looks routes up without pause and times every lookup. */
    private static final class Looker extends Thread {
        private final RouteRegistry registry;
        private final String[][] requests;
        private final long[] buckets = new long[64];
        private final CountDownLatch started = new CountDownLatch(1);
        private volatile boolean running = true;
        private long max;
        private long count;
        private long slow;

        Looker(RouteRegistry registry, String[][] requests) {
            super("looker");
            this.registry = registry;
            this.requests = requests;
        }

        @Override
        public synchronized void start() {
            super.start();
            try {
                started.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void run() {
            int i = 0;
            started.countDown();
            while (running) {
                String[] request = requests[i];
                i = i + 7919 >= ROUTES ? i + 7919 - ROUTES : i + 7919;
                long start = System.nanoTime();
                Route route = registry.lookup(request[0], request[1]);
                long took = System.nanoTime() - start;
                if (route != null && route.key() == null) {
                    throw new IllegalStateException();
                }
                buckets[64 - Long.numberOfLeadingZeros(took)]++;
                max = Math.max(max, took);
                slow += took > 1_000_000 ? 1 : 0;
                count++;
            }
        }

        void finish() throws InterruptedException {
            running = false;
            join();
        }

        @Override
        public String toString() {
            return String.format("%d lookups, p50 <= %s, p99 <= %s, p99.9 <= %s, max %.3f ms, %d over 1 ms",
                    count, percentile(buckets, count, 0.5), percentile(buckets, count, 0.99),
                    percentile(buckets, count, 0.999), max / 1e6, slow);
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
