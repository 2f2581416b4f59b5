package io.cfrouter.registry;

import io.cfrouter.core.Endpoint;
import io.cfrouter.core.RouteKey;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.util.concurrent.TimeUnit;

/**
 * Registrations against a table of 100 000 routes, single-threaded, in updates per second: the
 * re-registration every endpoint sends each 20 s, and a route that is new (then leaves again, so the
 * table stays at 100 000; both count as updates).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class RegisterBenchmark {

    private static final int ROUTES = 100_000;
    private static final int FRESH = 1 << 16;

    private RouteRegistry registry;
    private RouteKey[] keys;
    private Endpoint[] endpoints;
    private RouteKey[] freshKeys;
    private Endpoint[] freshEndpoints;
    private String[] freshAddresses;
    private int next;
    private int nextFresh;

    @Setup
    public void setUp() {
        registry = RouteRegistry.builder().ticker(new FakeTicker()).build();
        keys = new RouteKey[ROUTES];
        endpoints = new Endpoint[ROUTES];
        for (int i = 0; i < ROUTES; i++) {
            keys[i] = BenchmarkTables.key(i);
            endpoints[i] = BenchmarkTables.endpoint(i);
            registry.register(keys[i], endpoints[i]);
        }
        freshKeys = new RouteKey[FRESH];
        freshEndpoints = new Endpoint[FRESH];
        freshAddresses = new String[FRESH];
        for (int i = 0; i < FRESH; i++) {
            freshKeys[i] = BenchmarkTables.key(ROUTES + i);
            freshEndpoints[i] = BenchmarkTables.endpoint(ROUTES + i);
            freshAddresses[i] = freshEndpoints[i].address();
        }
    }

    @Benchmark
    public void reRegisterExisting() {
        int i = next;
        next = i + 1 == ROUTES ? 0 : i + 1;
        registry.register(keys[i], endpoints[i]);
    }

    @Benchmark
    @OperationsPerInvocation(2)
    public void registerNewRouteThenUnregister() {
        int i = nextFresh = (nextFresh + 1) & (FRESH - 1);
        registry.register(freshKeys[i], freshEndpoints[i]);
        registry.unregister(freshKeys[i], freshAddresses[i]);
    }
}
