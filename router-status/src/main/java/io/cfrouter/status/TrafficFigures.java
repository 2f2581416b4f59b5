package io.cfrouter.status;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * The traffic figures of {@code /varz} for one group of requests (all of them, or one component tag).
 *
 * <p>{@link #record} is wait-free and allocation-free (striped counters and an HdrHistogram
 * {@link Recorder}) and may be called from any number of threads. Everything else is called by
 * {@link RouterStatistics} under its tick lock.
 */
final class TrafficFigures {

    /** Latencies are kept in microseconds up to this (ten minutes); longer ones count as ten minutes. */
    static final long MAX_LATENCY_MICROS = 600_000_000L;
    private static final int SIGNIFICANT_DIGITS = 2;
    private static final double[] PERCENTILES = {50, 75, 90, 95, 99};

    private final LongAdder requests = new LongAdder();
    private final LongAdder responses2xx = new LongAdder();
    private final LongAdder responses3xx = new LongAdder();
    private final LongAdder responses4xx = new LongAdder();
    private final LongAdder responses5xx = new LongAdder();
    private final LongAdder responsesXxx = new LongAdder();
    private final LongAdder badRequests = new LongAdder();
    private final LongAdder badGateways = new LongAdder();
    private final Recorder latency = new Recorder(1, MAX_LATENCY_MICROS, SIGNIFICANT_DIGITS);

    // Guarded by the owner's tick lock.
    private final RateMeter rate;
    private long requestsAtLastTick;
    private Histogram interval;
    private Histogram thisMinute = newHistogram();
    private Histogram lastMinute = newHistogram();
    private final Histogram report = newHistogram();

    TrafficFigures(double tickSeconds) {
        this.rate = new RateMeter(tickSeconds);
    }

    /** Counts one finished request. Wait-free; allocates nothing. */
    void record(int status, long durationNanos, boolean badRequest, boolean badGateway) {
        requests.increment();
        switch (status / 100) {
            case 2 -> responses2xx.increment();
            case 3 -> responses3xx.increment();
            case 4 -> responses4xx.increment();
            case 5 -> responses5xx.increment();
            default -> responsesXxx.increment();
        }
        if (badRequest) {
            badRequests.increment();
        }
        if (badGateway) {
            badGateways.increment();
        }
        long micros = durationNanos / 1000;
        latency.recordValue(micros < 0 ? 0 : Math.min(micros, MAX_LATENCY_MICROS));
    }

    /** Total requests counted so far. */
    long requests() {
        return requests.sum();
    }

    /**
     * Closes {@code intervals} tick intervals (the requests counted since the last tick fall in the first
     * one) and, when {@code minuteRotations} is above zero, starts a new latency minute.
     */
    void tick(long intervals, long minuteRotations) {
        long total = requests.sum();
        rate.tick(total - requestsAtLastTick, intervals);
        requestsAtLastTick = total;
        foldLatency();
        if (minuteRotations > 0) {
            Histogram recycled = lastMinute;
            recycled.reset();
            lastMinute = minuteRotations == 1 ? thisMinute : recycled;
            if (minuteRotations > 1) {
                thisMinute.reset();
            } else {
                thisMinute = recycled;
            }
        }
    }

    /** The {@code /varz} figures: counters, rates, and latency percentiles over the last one to two minutes. */
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
        m.put("requests", requests.sum());
        m.put("rate", List.of(rates[0], rates[1], rates[2]));
        m.put("requests_per_sec", rate.lastIntervalRate());
        m.put("responses_2xx", responses2xx.sum());
        m.put("responses_3xx", responses3xx.sum());
        m.put("responses_4xx", responses4xx.sum());
        m.put("responses_5xx", responses5xx.sum());
        m.put("responses_xxx", responsesXxx.sum());
        m.put("bad_requests", badRequests.sum());
        m.put("bad_gateways", badGateways.sum());
        m.put("latency", latencies);
        return m;
    }

    private void foldLatency() {
        interval = latency.getIntervalHistogram(interval);
        thisMinute.add(interval);
    }

    private static Histogram newHistogram() {
        return new Histogram(1, MAX_LATENCY_MICROS, SIGNIFICANT_DIGITS);
    }
}
