package io.cfrouter.status;

import io.cfrouter.core.PerThread;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.SingleWriterRecorder;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The traffic figures of {@code /varz} for one group of requests (all of them, or one component tag).
 *
 * <p>{@link #record} is wait-free and allocation-free once a thread has recorded before, and may be
 * called from any number of threads. Everything else is called by {@link RouterStatistics} under its tick
 * lock.
 *
 * <p>Each recording thread gets its own cells: counters that only it writes (plain increments published
 * with opaque stores, so no atomic read-modify-write at all) and its own HdrHistogram
 * {@link SingleWriterRecorder}. A shared {@code LongAdder} or {@code Recorder} would make every request
 * do several atomic instructions, some on cache lines other threads write too; here the only ones left
 * are the recorder's two uncontended phaser increments. Readers add the threads' cells up. The price is
 * memory: about 50 KiB (two histograms) per recording thread per group. A dead thread's cells are folded
 * into the group's totals and dropped.
 */
final class TrafficFigures {

    /** Latencies are kept in microseconds up to this (ten minutes); longer ones count as ten minutes. */
    static final long MAX_LATENCY_MICROS = 600_000_000L;
    private static final int SIGNIFICANT_DIGITS = 2;
    private static final double[] PERCENTILES = {50, 75, 90, 95, 99};
    private static final String[] COUNTER_NAMES = {"requests", "responses_2xx", "responses_3xx",
        "responses_4xx", "responses_5xx", "responses_xxx", "bad_requests", "bad_gateways"};
    private static final int REQUESTS = 0;
    private static final int BAD_REQUESTS = 6;
    private static final int BAD_GATEWAYS = 7;
    private static final VarHandle COUNTERS = MethodHandles.arrayElementVarHandle(long[].class);

    private final CopyOnWriteArrayList<Cells> cells = new CopyOnWriteArrayList<>();
    private final PerThread<Cells> local = PerThread.withInitial(this::newCells);

    // Guarded by the owner's tick lock.
    private final long[] retired = new long[COUNTER_NAMES.length];
    private final RateMeter rate;
    private long requestsAtLastTick;
    private final Histogram interval = newHistogram();
    private final Histogram fresh = newHistogram();
    private long pendingRotations;
    private Histogram thisMinute = newHistogram();
    private Histogram lastMinute = newHistogram();
    private final Histogram report = newHistogram();

    TrafficFigures(double tickSeconds) {
        this.rate = new RateMeter(tickSeconds);
    }

    /** Counts one finished request. Wait-free; allocates nothing after the thread's first request. */
    void record(int status, long durationNanos, boolean badRequest, boolean badGateway) {
        Cells own = local.get();
        long[] c = own.counters;
        increment(c, REQUESTS);
        int statusClass = status / 100;
        increment(c, statusClass >= 2 && statusClass <= 5 ? statusClass - 1 : 5);
        if (badRequest) {
            increment(c, BAD_REQUESTS);
        }
        if (badGateway) {
            increment(c, BAD_GATEWAYS);
        }
        long micros = durationNanos / 1000;
        own.latency.recordValue(micros < 0 ? 0 : Math.min(micros, MAX_LATENCY_MICROS));
    }

    /** Total requests counted so far. */
    long requests() {
        return sum(REQUESTS);
    }

    /**
     * Closes {@code intervals} tick intervals (the requests counted since the last tick fall in the first)
     * and notes {@code minuteRotations} new latency minutes. Cheap enough for a request thread: the
     * histograms are only read and rotated by {@link #toMap()}.
     */
    void tick(long intervals, long minuteRotations) {
        long total = sum(REQUESTS);
        rate.tick(total - requestsAtLastTick, intervals);
        requestsAtLastTick = total;
        pendingRotations += minuteRotations;
    }

    /**
     * The {@code /varz} figures: counters, rates, and latency percentiles over the last one to two minutes
     * (or, when {@code /varz} is read less often, the requests since the previous read).
     */
    Map<String, Object> toMap() {
        foldLatency();
        report.reset();
        report.add(lastMinute);
        report.add(thisMinute);
        Map<String, Object> latencies = new LinkedHashMap<>();
        for (double p : PERCENTILES) {
            long micros = report.getTotalCount() == 0 ? 0 : report.getValueAtPercentile(p);
            latencies.put(Integer.toString((int) p), micros / 1e6);
        }
        double[] rates = rate.rates();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("requests", sum(REQUESTS));
        m.put("rate", List.of(rates[0], rates[1], rates[2]));
        m.put("requests_per_sec", rate.lastIntervalRate());
        for (int i = 1; i < COUNTER_NAMES.length; i++) {
            m.put(COUNTER_NAMES[i], sum(i));
        }
        m.put("latency", latencies);
        return m;
    }

    private long sum(int counter) {
        long sum = retired[counter];
        for (Cells c : cells) {
            sum += (long) COUNTERS.getOpaque(c.counters, counter);
        }
        return sum;
    }

    /** Takes the threads' latencies since the last read and applies the minutes that have begun since. */
    private void foldLatency() {
        fresh.reset();
        for (Cells c : cells) {
            // Read liveness first: once a dead thread's figures are taken, nothing more can arrive.
            boolean alive = c.owner.isAlive();
            c.latency.getIntervalHistogramInto(interval);
            fresh.add(interval);
            if (!alive) {
                for (int i = 0; i < retired.length; i++) {
                    retired[i] += (long) COUNTERS.getOpaque(c.counters, i);
                }
                cells.remove(c);
            }
        }
        // The fresh latencies are the newest: they go into the current minute, whatever has rotated.
        if (pendingRotations > 0) {
            Histogram recycled = lastMinute;
            recycled.reset();
            if (pendingRotations == 1) {
                lastMinute = thisMinute;
            } else {
                thisMinute.reset();
                lastMinute = thisMinute;
            }
            thisMinute = recycled;
            pendingRotations = 0;
        }
        thisMinute.add(fresh);
    }

    private Cells newCells() {
        Cells c = new Cells(Thread.currentThread(), new long[COUNTER_NAMES.length],
                new SingleWriterRecorder(1, MAX_LATENCY_MICROS, SIGNIFICANT_DIGITS));
        cells.add(c);
        return c;
    }

    /** Single writer: the owning thread reads its own value and publishes the next one. */
    private static void increment(long[] counters, int index) {
        COUNTERS.setOpaque(counters, index, counters[index] + 1);
    }

    private static Histogram newHistogram() {
        return new Histogram(1, MAX_LATENCY_MICROS, SIGNIFICANT_DIGITS);
    }

    /** One thread's share of the figures. */
    private record Cells(Thread owner, long[] counters, SingleWriterRecorder latency) {
    }
}
