package io.cfrouter.status;

import io.cfrouter.core.RequestRecord;
import io.cfrouter.core.Ticker;
import org.HdrHistogram.Histogram;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The cost of counting one finished request, under two threads at once: {@link RouterStatistics} against
 * the design it replaces (one mutex around plain counters, as the original router's varz had).
 *
 * <p>Run (from the repository root):
 * <pre>
 * mvn -B -q -pl router-status -am test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt -Dmdep.includeScope=test \
 *   &amp;&amp; java -cp router-status/target/test-classes:router-status/target/classes:$(cat router-status/target/cp.txt) \
 *   org.openjdk.jmh.Main RecordingBenchmark -f 1 -wi 3 -i 5 -w 1s -r 1s -prof gc
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Threads(2)
public class RecordingBenchmark {

    private static final int RECORDS = 4096;
    private static final int[] STATUSES = {200, 200, 200, 304, 404, 200, 500, 200};

    /**
     * Applications the requests cycle over: with one, every counter is contended; with 1 000, two threads
     * rarely count the same application at once, but they take turns writing the same lines.
     */
    @Param({"1", "1000"})
    public int apps;

    private RequestRecord[] records;
    private RouterStatistics statistics;
    private LockedStatistics locked;

    /** Per-thread position in the records, so the two threads do not share a cursor. */
    @State(Scope.Thread)
    public static class Cursor {
        int next;

        /** Threads start at different places, as two I/O threads serving different clients would. */
        @Setup
        public void start() {
            next = ThreadLocalRandom.current().nextInt(RECORDS);
        }
    }

    @Setup
    public void setUp() {
        records = new RequestRecord[RECORDS];
        for (int i = 0; i < records.length; i++) {
            records[i] = Records.proxied(STATUSES[i % STATUSES.length], Duration.ofNanos(200_000 + 37_000L * i),
                    "app-" + (i % apps), "component-" + (i % 4));
        }
        statistics = new RouterStatistics(Ticker.system());
        locked = new LockedStatistics();
    }

    @Benchmark
    public void routerStatistics(Cursor cursor) {
        statistics.onRequest(next(cursor));
    }

    @Benchmark
    public void singleMutex(Cursor cursor) {
        locked.onRequest(next(cursor));
    }

    private RequestRecord next(Cursor cursor) {
        int i = cursor.next;
        cursor.next = (i + 1) & (records.length - 1);
        return records[i];
    }

    /**
     * The baseline: every figure behind one lock. It reads the clock too, as any per-minute figure must,
     * but keeps no rates or windows, so it flatters the mutex.
     */
    static final class LockedStatistics {
        private final Ticker ticker = Ticker.system();
        private long lastSeen;
        private long requests;
        private final long[] byClass = new long[6];
        private final Histogram latency = new Histogram(1, TrafficFigures.MAX_LATENCY_MICROS, 2);
        private final Map<String, long[]> perApp = new HashMap<>();
        private final Map<String, long[]> perComponent = new HashMap<>();

        synchronized void onRequest(RequestRecord r) {
            lastSeen = ticker.read();
            requests++;
            byClass[Math.min(5, r.status() / 100)]++;
            latency.recordValue(Math.min(r.durationNanos() / 1000, TrafficFigures.MAX_LATENCY_MICROS));
            perApp.computeIfAbsent(r.appId(), a -> new long[1])[0]++;
            perComponent.computeIfAbsent(r.component(), c -> new long[1])[0]++;
        }
    }
}
