package io.cfrouter.status;

import io.cfrouter.core.Ticker;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.OperatingSystemMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;

/**
 * The process figures of {@code /varz}: resident memory and CPU use. Thread-safe. Reads a file under
 * {@code /proc}, so call it off the I/O threads.
 */
final class ProcessFigures {

    private static final Path PROC_STATUS = Path.of("/proc/self/status");
    /** CPU use is measured over at least this long, so back-to-back reads do not report noise. */
    private static final long MIN_CPU_WINDOW_NANOS = 1_000_000_000L;

    private final Ticker ticker;
    private final LongSupplier cpuTimeNanos;
    private final Path procStatus;
    private final AtomicReference<CpuSample> cpuSample;
    private final AtomicReference<Double> lastCpuPercent = new AtomicReference<>(0.0);

    ProcessFigures(Ticker ticker) {
        this(ticker, processCpuTime(), PROC_STATUS);
    }

    ProcessFigures(Ticker ticker, LongSupplier cpuTimeNanos, Path procStatus) {
        this.ticker = ticker;
        this.cpuTimeNanos = cpuTimeNanos;
        this.procStatus = procStatus;
        this.cpuSample = new AtomicReference<>(new CpuSample(ticker.read(), cpuTimeNanos.getAsLong()));
    }

    /**
     * Resident memory in KiB: {@code VmRSS} of {@code /proc/self/status} where there is one, else the
     * memory the JVM has committed (heap and non-heap), the nearest portable figure.
     */
    long residentKb() {
        try {
            for (String line : Files.readAllLines(procStatus, StandardCharsets.US_ASCII)) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.substring("VmRSS:".length()).replace("kB", "").trim());
                }
            }
        } catch (IOException | RuntimeException e) {
            // Not Linux, or an unexpected format: fall through to the JVM's own figure.
        }
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        return (memory.getHeapMemoryUsage().getCommitted() + memory.getNonHeapMemoryUsage().getCommitted()) / 1024;
    }

    /**
     * The process's CPU use in percent of one core (200 means two busy cores), over the time since the
     * previous reading, or since start-up for the first one.
     */
    double cpuPercent() {
        long now = ticker.read();
        long cpu = cpuTimeNanos.getAsLong();
        CpuSample before = cpuSample.get();
        long wall = now - before.tickerNanos;
        if (wall < MIN_CPU_WINDOW_NANOS) {
            return lastCpuPercent.get();
        }
        double percent = Math.max(0, cpu - before.cpuNanos) * 100.0 / wall;
        if (cpuSample.compareAndSet(before, new CpuSample(now, cpu))) {
            lastCpuPercent.set(percent);
        }
        return percent;
    }

    private static LongSupplier processCpuTime() {
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun && sun.getProcessCpuTime() >= 0) {
            return sun::getProcessCpuTime;
        }
        // Without the JDK's extension, the sum of the live threads' CPU time is the closest figure.
        java.lang.management.ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        return () -> {
            long sum = 0;
            for (long id : threads.getAllThreadIds()) {
                sum += Math.max(0, threads.getThreadCpuTime(id));
            }
            return sum;
        };
    }

    private record CpuSample(long tickerNanos, long cpuNanos) {
    }
}
