package io.cfrouter.registry;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Random;

/**
 * The lookups of {@link LookupBenchmark} timed by the CPU time of the looking thread rather than the wall
 * clock: on a machine shared with other builds a thread waits for a core, which wall-clock benchmarks count
 * as lookup time. Prints CPU nanoseconds per lookup hit at 1, 1 000 and 100 000 routes, and at 100 000 routes
 * for each kind of route alone; each twice: the lookup alone, its result kept without being read (as JMH's
 * {@code Blackhole} keeps it), and the lookup followed by reading the route's key, as a request does next
 * (the table does not read the route object itself, so that read is a cache miss of the request's).
 * The requests are {@link #REQUESTS} random routes' unless the first argument gives another power of two:
 * how many distinct keys the lookups cycle through decides how much of the table stays in the caches.
 * Not a test: run it with the bench profile (see docs/performance.md, ## Registry).
 */
public final class LookupCpuTimeHarness {

    private static final int REQUESTS = 4096;
    private static int distinctRequests = REQUESTS;
    private static final int LOOKUPS = 5_000_000;

    private LookupCpuTimeHarness() {
    }

    public static void main(String[] args) {
        if (args.length > 0) {
            distinctRequests = Integer.parseInt(args[0]);
            if (Integer.bitCount(distinctRequests) != 1) {
                throw new IllegalArgumentException("requests: a power of two, not " + distinctRequests);
            }
        }
        System.out.printf("%d distinct requests%n", distinctRequests);
        for (int routes : new int[] {1, 1000, 100_000}) {
            RouteRegistry registry = table(routes);
            String[][] requests = requests(routes, -1);
            System.out.printf("%d routes: %.1f CPU ns per lookup hit, %.1f with route.key() read (best of 5 "
                            + "rounds of %d, after 3 warm-up rounds)%n", routes, time(registry, requests, false),
                    time(registry, requests, true), LOOKUPS);
            if (routes == 100_000) {
                // The same, with requests of one kind only: where the mixed figure comes from.
                String[] kinds = {"exact host", "host and path", "wildcard"};
                for (int kind = 0; kind < kinds.length; kind++) {
                    requests = requests(routes, kind);
                    System.out.printf("  %s only: %.1f CPU ns per lookup hit, %.1f with route.key() read%n",
                            kinds[kind], time(registry, requests, false), time(registry, requests, true));
                }
            }
        }
    }

    private static RouteRegistry table(int routes) {
        RouteRegistry registry = RouteRegistry.builder().ticker(new FakeTicker()).build();
        for (int i = 0; i < routes; i++) {
            registry.register(BenchmarkTables.key(i), BenchmarkTables.endpoint(i));
        }
        return registry;
    }

    /** {host[], path[]} for {@link #distinctRequests} random routes, or only routes of {@code kind} (0-2) if >= 0. */
    private static String[][] requests(int routes, int kind) {
        String[][] requests = new String[2][distinctRequests];
        Random random = new Random(42);
        for (int r = 0; r < requests[0].length; r++) {
            int i = routes == 1 ? 0 : random.nextInt(routes);
            while (kind >= 0 && kindOf(i) != kind) {
                i = random.nextInt(routes);
            }
            String[] request = BenchmarkTables.request(i);
            requests[0][r] = request[0];
            requests[1][r] = request[1];
        }
        return requests;
    }

    /** 0 for an exact host route, 1 for a path route, 2 for a wildcard ({@link BenchmarkTables#uri}). */
    private static int kindOf(int i) {
        int m = i % 10;
        return m <= 5 ? 0 : m <= 8 ? 1 : 2;
    }

    /**
     * CPU nanoseconds per lookup: the best of 5 rounds after 3 warm-up rounds. Each result is kept (compared
     * with the one before, so the lookup cannot be left out) and, if {@code readKey}, its key's hash read.
     */
    private static double time(RouteRegistry registry, String[][] requests, boolean readKey) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        String[] hosts = requests[0];
        String[] paths = requests[1];
        long sink = 0;
        Route last = null;
        double best = Double.MAX_VALUE;
        for (int round = 0; round < 8; round++) {
            long start = threads.getCurrentThreadCpuTime();
            for (int n = 0; n < LOOKUPS; n++) {
                int r = n & (hosts.length - 1);
                Route route = registry.lookup(hosts[r], paths[r]);
                sink += route == last ? 1 : readKey ? route.key().hashCode() : 0;
                last = route;
            }
            double perLookup = (threads.getCurrentThreadCpuTime() - start) / (double) LOOKUPS;
            if (round >= 3) {
                best = Math.min(best, perLookup);
            }
        }
        if (sink == 42) {
            System.out.print(""); // keeps the lookups' results alive
        }
        return best;
    }
}
