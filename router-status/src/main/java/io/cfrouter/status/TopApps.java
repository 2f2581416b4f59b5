package io.cfrouter.status;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Requests per application over the last minute, for {@code top10_app_requests}.
 *
 * <p>Counts go to the current minute's map; each minute the map becomes the previous one and a fresh map
 * starts, so an application that stops receiving traffic is forgotten after two minutes without any
 * eviction work. The requests of the last sixty seconds are estimated as the current minute's count plus
 * the share of the previous minute's count that still lies within the last sixty seconds.
 *
 * <p>Cardinality is bounded: a minute tracks at most {@code maxApps} applications, exactly, however many
 * threads admit one at the same moment (see {@link CappedMap}). Later newcomers in that
 * minute are only counted in {@link #untracked()}; a busy application arrives early in every minute, so
 * the top ten stay right unless more than {@code maxApps} applications are busy at once.
 *
 * <p>{@link #record} is thread-safe and lock-free, allocating only for an application's first request
 * in a minute; {@link #rotate} and {@link #top} are called under the owner's tick lock.
 */
final class TopApps {

    private final int maxApps;
    private volatile Minute current;
    private Minute previous;

    TopApps(int maxApps, long nowNanos) {
        this.maxApps = maxApps;
        this.current = new Minute(nowNanos, maxApps);
        this.previous = new Minute(nowNanos, maxApps);
    }

    /** Counts one request for {@code appId}. */
    void record(String appId) {
        Minute minute = current;
        LongAdder counter = minute.counts.get(appId);
        if (counter == null) { // the minute's table is full without it
            minute.untracked.increment();
            return;
        }
        counter.increment();
    }

    /** Starts a new minute at {@code nowNanos}; after {@code rotations} above one, nothing is remembered. */
    void rotate(long rotations, long nowNanos) {
        if (rotations <= 0) {
            return;
        }
        previous = rotations == 1 ? current : new Minute(nowNanos, maxApps);
        current = new Minute(nowNanos, maxApps);
    }

    /** Requests not attributed to an application because the minute's table was full. */
    long untracked() {
        return current.untracked.sum() + previous.untracked.sum();
    }

    /** The {@code limit} busiest applications of the last sixty seconds, busiest first. */
    List<Map<String, Object>> top(int limit, long nowNanos, long minuteNanos) {
        Minute cur = current;
        double elapsed = Math.min(1.0, Math.max(0, nowNanos - cur.startNanos) / (double) minuteNanos);
        double previousShare = 1.0 - elapsed;
        Map<String, Double> perMinute = new HashMap<>();
        previous.counts.forEach((app, count) -> perMinute.merge(app, count.sum() * previousShare, Double::sum));
        cur.counts.forEach((app, count) -> perMinute.merge(app, (double) count.sum(), Double::sum));
        List<Map.Entry<String, Double>> sorted = new ArrayList<>(perMinute.entrySet());
        sorted.removeIf(e -> e.getValue() < 0.5); // would show as 0 rpm
        sorted.sort(Map.Entry.<String, Double>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()));
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map.Entry<String, Double> e : sorted.subList(0, Math.min(limit, sorted.size()))) {
            Map<String, Object> app = new LinkedHashMap<>();
            long rpm = Math.round(e.getValue());
            app.put("application_id", e.getKey());
            app.put("rpm", rpm);
            app.put("rps", rpm / 60.0);
            out.add(app);
        }
        return out;
    }

    /** One minute's counts. */
    private static final class Minute {
        final long startNanos;
        final CappedMap<LongAdder> counts;
        final LongAdder untracked = new LongAdder();

        Minute(long startNanos, int maxApps) {
            this.startNanos = startNanos;
            this.counts = new CappedMap<>(maxApps, app -> new LongAdder());
        }
    }
}
