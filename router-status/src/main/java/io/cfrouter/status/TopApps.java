package io.cfrouter.status;

import io.cfrouter.core.PerThread;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Requests per application over the last minute, for {@code top10_app_requests}.
 *
 * <p>Counts go to the current minute's map; each minute the map becomes the previous one and a fresh map
 * starts, so an application that stops receiving traffic is forgotten after two minutes without any
 * eviction work. The requests of the last sixty seconds are estimated as the current minute's count plus
 * the share of the previous minute's count that still lies within the last sixty seconds.
 *
 * <p>Each recording thread counts into its own table of the minute, and only that thread writes its
 * counters (plain increments published with opaque stores); {@link #top} adds the threads' tables up. A
 * counter shared by the threads, even a {@code LongAdder}, puts a cache line that both cores write on the
 * path of every request: a {@code LongAdder} only spreads into cells once its threads collide, and with
 * many applications they rarely do, so each stays a single field whose line moves from one core's cache
 * to the other's on most requests.
 *
 * <p>Cardinality is bounded: a minute holds at most {@code maxApps} counters over all threads (an
 * application recorded by two threads takes two). Later newcomers in that minute are only counted in
 * {@link #untracked()}; a busy application arrives early in every minute, so the top ten stay right unless
 * more than {@code maxApps} applications are busy at once.
 *
 * <p>{@link #record} is thread-safe and lock-free, allocating only for an application's first request
 * on a thread in a minute; {@link #rotate} and {@link #top} are called under the owner's tick lock.
 */
final class TopApps {

    private final int maxApps;
    private volatile Minute current;
    private Minute previous;

    TopApps(int maxApps, long nowNanos) {
        this.maxApps = maxApps;
        this.current = new Minute(nowNanos);
        this.previous = new Minute(nowNanos);
    }

    /** Counts one request for {@code appId}. */
    void record(String appId) {
        Tally tally = current.local.get();
        AtomicLong counter = tally.counts.get(appId);
        if (counter == null) {
            counter = newCounter(tally, appId);
            if (counter == null) {
                increment(tally.untracked);
                return;
            }
        }
        increment(counter);
    }

    /** A counter for the thread's first request of {@code appId} this minute, or null when the minute is full. */
    private AtomicLong newCounter(Tally tally, String appId) {
        AtomicInteger counters = tally.minute.counters;
        // Read before adding: once the minute is full, its count is no longer written, so the threads that
        // keep looking at it all read one line that stays in their caches.
        if (counters.get() >= maxApps || counters.getAndIncrement() >= maxApps) {
            return null;
        }
        AtomicLong counter = new AtomicLong();
        tally.counts.put(appId, counter);
        return counter;
    }

    /** Starts a new minute at {@code nowNanos}; after {@code rotations} above one, nothing is remembered. */
    void rotate(long rotations, long nowNanos) {
        if (rotations <= 0) {
            return;
        }
        previous = rotations == 1 ? current : new Minute(nowNanos);
        current = new Minute(nowNanos);
    }

    /** Requests not attributed to an application because the minute's table was full. */
    long untracked() {
        return current.untracked() + previous.untracked();
    }

    /** The {@code limit} busiest applications of the last sixty seconds, busiest first. */
    List<Map<String, Object>> top(int limit, long nowNanos, long minuteNanos) {
        Minute cur = current;
        double elapsed = Math.min(1.0, Math.max(0, nowNanos - cur.startNanos) / (double) minuteNanos);
        double previousShare = 1.0 - elapsed;
        Map<String, Double> perMinute = new HashMap<>();
        previous.addTo(perMinute, previousShare);
        cur.addTo(perMinute, 1.0);
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

    /** Single writer: the owning thread reads its own count and publishes the next one. */
    private static void increment(AtomicLong counter) {
        counter.setOpaque(counter.getPlain() + 1);
    }

    /** One minute's counts: a tally per recording thread. */
    private static final class Minute {
        final long startNanos;
        final CopyOnWriteArrayList<Tally> tallies = new CopyOnWriteArrayList<>();
        final PerThread<Tally> local = PerThread.withInitial(this::newTally);
        /** Counters made this minute over all threads, against the cap. */
        final AtomicInteger counters = new AtomicInteger();

        Minute(long startNanos) {
            this.startNanos = startNanos;
        }

        private Tally newTally() {
            Tally tally = new Tally(this);
            tallies.add(tally);
            return tally;
        }

        /** Adds every application's count, times {@code share}, into {@code perMinute}. */
        void addTo(Map<String, Double> perMinute, double share) {
            for (Tally tally : tallies) {
                tally.counts.forEach((app, count) -> perMinute.merge(app, count.getOpaque() * share, Double::sum));
            }
        }

        long untracked() {
            long sum = 0;
            for (Tally tally : tallies) {
                sum += tally.untracked.getOpaque();
            }
            return sum;
        }
    }

    /**
     * One thread's counts in one minute. Only that thread writes; readers may read at any time, so the
     * table is concurrent although its writes are not.
     */
    private static final class Tally {
        final Minute minute;
        final ConcurrentHashMap<String, AtomicLong> counts = new ConcurrentHashMap<>();
        final AtomicLong untracked = new AtomicLong();

        Tally(Minute minute) {
            this.minute = minute;
        }
    }
}
