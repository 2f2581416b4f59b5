package io.cfrouter.registry;

import io.cfrouter.core.Endpoint;
import io.cfrouter.core.RouteKey;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;

/**
 * Measures the heap a table of 100 000 routes with one endpoint each retains: used heap after full
 * collections with the table reachable, minus used heap after full collections without it. The keys and
 * endpoints are made fresh (as a NATS decoder makes them) and are reachable only from the table, so they
 * count. For comparison it also measures the same keys and endpoints held in plain arrays, without a table
 * (the table shares repeated values, so it can hold them in less).
 * Not a test: run it with the bench profile (see docs/performance.md, ## Registry).
 */
public final class MemoryFootprintHarness {

    private static final int ROUTES = 100_000;

    private MemoryFootprintHarness() {
    }

    public static void main(String[] args) {
        measure(false);
        measure(true);
    }

    private static void measure(boolean uniqueTag) {
        long empty = usedAfterGc();
        RouteRegistry registry = RouteRegistry.builder().ticker(new FakeTicker()).build();
        for (int i = 0; i < ROUTES; i++) {
            registry.register(BenchmarkTables.key(i), BenchmarkTables.endpoint(i, uniqueTag));
        }
        long table = usedAfterGc() - empty;
        if (registry.routeCount() != ROUTES) {
            throw new IllegalStateException("routes: " + registry.routeCount());
        }
        registry = null;

        RouteKey[] keys = new RouteKey[ROUTES];
        Endpoint[] endpoints = new Endpoint[ROUTES];
        long beforeInputs = usedAfterGc();
        for (int i = 0; i < ROUTES; i++) {
            keys[i] = BenchmarkTables.key(i);
            endpoints[i] = BenchmarkTables.endpoint(i, uniqueTag);
        }
        long inputs = usedAfterGc() - beforeInputs;
        if (keys[ROUTES - 1] == null || endpoints[ROUTES - 1] == null) {
            throw new IllegalStateException();
        }

        System.out.printf("%d routes, one endpoint each, tags %s: the table retains %.1f MB (%d B/route). "
                        + "For comparison, the keys and endpoints as decoded, held in arrays: %.1f MB (%d B/route)%n",
                ROUTES, uniqueTag ? "{component, app_name: unique}" : "{component, process_type}",
                table / 1e6, table / ROUTES, inputs / 1e6, inputs / ROUTES);
    }

    private static long usedAfterGc() {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            System.gc();
            used = Math.min(used, memory.getHeapMemoryUsage().getUsed());
        }
        return used;
    }
}
