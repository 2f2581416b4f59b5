package io.cfrouter.registry;

import io.cfrouter.core.Endpoint;
import io.cfrouter.core.RouteKey;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * The registrations of {@link RegisterBenchmark} timed by the CPU time of the registering thread rather
 * than the wall clock (see {@link LookupCpuTimeHarness} for why): re-registering each of 100 000 routes in
 * turn, and registering a new route then unregistering it. Prints CPU nanoseconds per update and the rate
 * that makes on one core.
 * Not a test: run it with the bench profile (see docs/performance.md, ## Registry).
 */
public final class RegisterCpuTimeHarness {

    private static final int ROUTES = 100_000;
    private static final int FRESH = 1 << 16;
    private static final int UPDATES = 2_000_000;

    private RegisterCpuTimeHarness() {
    }

    public static void main(String[] args) {
        RouteRegistry registry = RouteRegistry.builder().ticker(new FakeTicker()).build();
        RouteKey[] keys = new RouteKey[ROUTES];
        Endpoint[] endpoints = new Endpoint[ROUTES];
        for (int i = 0; i < ROUTES; i++) {
            keys[i] = BenchmarkTables.key(i);
            endpoints[i] = BenchmarkTables.endpoint(i);
            registry.register(keys[i], endpoints[i]);
        }
        RouteKey[] freshKeys = new RouteKey[FRESH];
        Endpoint[] freshEndpoints = new Endpoint[FRESH];
        String[] freshAddresses = new String[FRESH];
        for (int i = 0; i < FRESH; i++) {
            freshKeys[i] = BenchmarkTables.key(ROUTES + i);
            freshEndpoints[i] = BenchmarkTables.endpoint(ROUTES + i);
            freshAddresses[i] = freshEndpoints[i].address();
        }
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        com.sun.management.OperatingSystemMXBean process =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        double reRegister = Double.MAX_VALUE;
        double fresh = Double.MAX_VALUE;
        double reRegisterProcess = Double.MAX_VALUE;
        double freshProcess = Double.MAX_VALUE;
        for (int round = 0; round < 8; round++) {
            long start = threads.getCurrentThreadCpuTime();
            long processStart = process.getProcessCpuTime();
            for (int n = 0; n < UPDATES; n++) {
                int i = n % ROUTES;
                registry.register(keys[i], endpoints[i]);
            }
            double perUpdate = (threads.getCurrentThreadCpuTime() - start) / (double) UPDATES;
            double perUpdateProcess = (process.getProcessCpuTime() - processStart) / (double) UPDATES;
            start = threads.getCurrentThreadCpuTime();
            processStart = process.getProcessCpuTime();
            for (int n = 0; n < UPDATES / 2; n++) {
                int i = n & (FRESH - 1);
                registry.register(freshKeys[i], freshEndpoints[i]);
                registry.unregister(freshKeys[i], freshAddresses[i]);
            }
            double perFresh = (threads.getCurrentThreadCpuTime() - start) / (double) UPDATES;
            double perFreshProcess = (process.getProcessCpuTime() - processStart) / (double) UPDATES;
            if (round >= 3) {
                reRegister = Math.min(reRegister, perUpdate);
                fresh = Math.min(fresh, perFresh);
                reRegisterProcess = Math.min(reRegisterProcess, perUpdateProcess);
                freshProcess = Math.min(freshProcess, perFreshProcess);
            }
        }
        System.out.printf("at %d routes: re-register %.0f CPU ns per update (%.2f M updates/s of CPU); new route "
                        + "then unregister %.0f CPU ns per update (%.2f M updates/s of CPU); best of 5 rounds after "
                        + "3 warm-up rounds; routes %d%n", ROUTES, reRegister, 1e3 / reRegister, fresh, 1e3 / fresh,
                registry.routeCount());
        System.out.printf("the whole process's CPU (the collector's threads too): re-register %.0f ns per update, "
                + "new route then unregister %.0f ns per update%n", reRegisterProcess, freshProcess);
    }
}
