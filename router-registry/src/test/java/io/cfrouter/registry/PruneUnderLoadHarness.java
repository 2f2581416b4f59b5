package io.cfrouter.registry;

import io.cfrouter.core.Endpoint;
import io.cfrouter.core.RouteKey;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;

/**
 * Prunes 100 000 stale endpoints while another thread looks routes up without pause, and prints how long
 * the sweep took (wall clock, and CPU time of the sweeping thread: on a shared machine the thread may wait
 * for a core) and how long lookups took meanwhile (every lookup timed, in power-of-two buckets), with the
 * collections that ran in the same window (a collection stops every thread: a lookup it stops takes as long).
 * Each window starts after {@code System.gc()}, so that the garbage of building the tables is not collected in
 * it: what is left is the sweep's own. The one argument, if any: the number of rounds (default 5); the summary
 * takes the rounds after the first two (the JIT's).
 * Not a test: run it with the bench profile (see docs/performance.md, ## Registry).
 */
public final class PruneUnderLoadHarness {

    private static final int ROUTES = 100_000;
    private static final int DEFAULT_ROUNDS = 5;
    private static final int WARM_UP_ROUNDS = 2;

    private PruneUnderLoadHarness() {
    }

    public static void main(String[] args) throws InterruptedException {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : DEFAULT_ROUNDS;
        RouteKey[] keys = new RouteKey[ROUTES];
        Endpoint[] endpoints = new Endpoint[ROUTES];
        String[][] requests = new String[ROUTES][];
        for (int i = 0; i < ROUTES; i++) {
            keys[i] = BenchmarkTables.key(i);
            endpoints[i] = BenchmarkTables.endpoint(i);
            requests[i] = BenchmarkTables.request(i);
        }
        int summarised = Math.max(0, rounds - WARM_UP_ROUNDS); // 1 or 2 rounds: printed, not summarised
        double[] sweepMillis = new double[summarised];
        double[] sweepCpuMillis = new double[summarised];
        long slowDuring = 0;
        long slowAlone = 0;
        for (int round = 1; round <= rounds; round++) {
            FakeTicker ticker = new FakeTicker();
            RouteRegistry registry = RouteRegistry.builder().ticker(ticker).build();
            for (int i = 0; i < ROUTES; i++) {
                registry.register(keys[i], endpoints[i]);
            }
            ticker.advance(Duration.ofSeconds(121));

            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            System.gc();
            Looker during = new Looker(registry, requests);
            during.start();
            long[] gcStart = collections();
            long cpuStart = threads.getCurrentThreadCpuTime();
            long start = System.nanoTime();
            int pruned = registry.pruneStale(ticker.read());
            long sweep = System.nanoTime() - start;
            long sweepCpu = threads.getCurrentThreadCpuTime() - cpuStart;
            during.finish();
            long[] gcDuring = since(gcStart);

            // The control: the same lookups for as long, with no sweep. What the machine does to a thread
            // that never waits for anything (being descheduled, collections) shows up here as well.
            ticker = new FakeTicker();
            RouteRegistry control = RouteRegistry.builder().ticker(ticker).build();
            for (int i = 0; i < ROUTES; i++) {
                control.register(keys[i], endpoints[i]);
            }
            System.gc();
            Looker alone = new Looker(control, requests);
            alone.start();
            gcStart = collections();
            long until = System.nanoTime() + sweep;
            while (System.nanoTime() - until < 0) {
                Thread.onSpinWait();
            }
            alone.finish();
            long[] gcAlone = since(gcStart);

            System.out.printf("round %d: pruned %d endpoints in %.1f ms (%.1f ms on CPU), routes left %d%n"
                            + "  lookups during the sweep: %s; collections %d (%d ms)%n"
                            + "  lookups without a sweep:  %s; collections %d (%d ms)%n", round, pruned,
                    sweep / 1e6, sweepCpu / 1e6, registry.routeCount(), during, gcDuring[0], gcDuring[1], alone,
                    gcAlone[0], gcAlone[1]);
            if (round > WARM_UP_ROUNDS) {
                sweepMillis[round - WARM_UP_ROUNDS - 1] = sweep / 1e6;
                sweepCpuMillis[round - WARM_UP_ROUNDS - 1] = sweepCpu / 1e6;
                slowDuring += during.slow;
                slowAlone += alone.slow;
            }
        }
        if (summarised > 0) {
            Arrays.sort(sweepMillis);
            Arrays.sort(sweepCpuMillis);
            System.out.printf("rounds %d-%d: sweep median %.1f ms (max %.1f), on CPU median %.1f ms (max %.1f); "
                            + "lookups over 1 ms: %d during the sweeps, %d without%n", WARM_UP_ROUNDS + 1, rounds,
                    median(sweepMillis), sweepMillis[sweepMillis.length - 1], median(sweepCpuMillis),
                    sweepCpuMillis[sweepCpuMillis.length - 1], slowDuring, slowAlone);
        }
    }

    private static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /** Collections so far, and the milliseconds they took, over all collectors. */
    private static long[] collections() {
        long count = 0;
        long millis = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            count += Math.max(0, gc.getCollectionCount());
            millis += Math.max(0, gc.getCollectionTime());
        }
        return new long[] {count, millis};
    }

    private static long[] since(long[] start) {
        long[] now = collections();
        return new long[] {now[0] - start[0], now[1] - start[1]};
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
