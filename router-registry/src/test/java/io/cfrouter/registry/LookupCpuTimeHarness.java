package io.cfrouter.registry;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Random;

/**
 * The lookups of {@link LookupBenchmark} timed by the CPU time of the looking thread rather than the wall
 * clock: on a machine shared with other builds a thread waits for a core, which wall-clock benchmarks count
 * as lookup time. Prints CPU nanoseconds per lookup hit at 1, 1 000 and 100 000 routes.
 * Not a test: run it with the bench profile (see docs/performance.md, ## Registry).
 */
public final class LookupCpuTimeHarness {

    private static final int REQUESTS = 4096;
    private static final int LOOKUPS = 5_000_000;

    private LookupCpuTimeHarness() {
    }

    public static void main(String[] args) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        for (int routes : new int[] {1, 1000, 100_000}) {
            RouteRegistry registry = RouteRegistry.builder().ticker(new FakeTicker()).build();
            for (int i = 0; i < routes; i++) {
                registry.register(BenchmarkTables.key(i), BenchmarkTables.endpoint(i));
            }
            String[] hosts = new String[REQUESTS];
            String[] paths = new String[REQUESTS];
            Random random = new Random(42);
            for (int r = 0; r < REQUESTS; r++) {
                String[] request = BenchmarkTables.request(routes == 1 ? 0 : random.nextInt(routes));
                hosts[r] = request[0];
                paths[r] = request[1];
            }
            long sink = 0;
            double best = Double.MAX_VALUE;
            for (int round = 0; round < 8; round++) {
                long start = threads.getCurrentThreadCpuTime();
                for (int n = 0; n < LOOKUPS; n++) {
                    int r = n & (REQUESTS - 1);
                    sink += registry.lookup(hosts[r], paths[r]).key().hashCode();
                }
                double perLookup = (threads.getCurrentThreadCpuTime() - start) / (double) LOOKUPS;
                if (round >= 3) {
                    best = Math.min(best, perLookup);
                }
            }
            System.out.printf("%d routes: %.1f CPU ns per lookup hit (best of 5 rounds of %d, after 3 warm-up "
                    + "rounds) [%d]%n", routes, best, LOOKUPS, sink & 1);
        }
    }
}
