package io.cfrouter.registry;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.util.concurrent.TimeUnit;

/** A lookup that hits, at 1, 1 000 and 100 000 routes of mixed exact, path and wildcard keys. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class LookupBenchmark {

    private static final int REQUESTS = 4096;

    @Param({"1", "1000", "100000"})
    public int routes;

    private RouteRegistry registry;
    private String[] hosts;
    private String[] paths;
    private int next;

    @Setup
    public void setUp() {
        registry = RouteRegistry.builder().ticker(new FakeTicker()).build();
        for (int i = 0; i < routes; i++) {
            registry.register(BenchmarkTables.key(i), BenchmarkTables.endpoint(i));
        }
        hosts = new String[REQUESTS];
        paths = new String[REQUESTS];
        java.util.Random random = new java.util.Random(42);
        for (int r = 0; r < REQUESTS; r++) {
            String[] request = BenchmarkTables.request(routes == 1 ? 0 : random.nextInt(routes));
            hosts[r] = request[0];
            paths[r] = request[1];
        }
        for (int r = 0; r < REQUESTS; r++) {
            if (registry.lookup(hosts[r], paths[r]) == null) {
                throw new IllegalStateException("miss: " + hosts[r] + paths[r]);
            }
        }
    }

    @Benchmark
    public Route lookupHit() {
        int r = next = (next + 1) & (REQUESTS - 1);
        return registry.lookup(hosts[r], paths[r]);
    }
}
