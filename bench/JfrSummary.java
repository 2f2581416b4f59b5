import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Summarises a JFR recording: where CPU samples (jdk.ExecutionSample) and sampled allocations
 * (jdk.ObjectAllocationSample, by weight) go, by top frame ("self") and by every frame on the stack
 * ("total", each method counted once per sample), as percentages.
 *
 * <pre>java bench/JfrSummary.java FILE.jfr [ROWS [FROM_EPOCH_MS TO_EPOCH_MS]]</pre>
 *
 * With a time window, only events inside it count. Record from JVM start
 * ({@code -XX:StartFlightRecording}) and pass the window of the load: an allocation sample's weight is the
 * bytes its thread allocated since its previous sample, so a recording started mid-run gives each
 * thread's first sample the weight of everything allocated before (warm-up included).
 */
public class JfrSummary {

    public static void main(String[] args) throws Exception {
        int rows = args.length > 1 ? Integer.parseInt(args[1]) : 25;
        long from = args.length > 3 ? Long.parseLong(args[2]) : Long.MIN_VALUE;
        long to = args.length > 3 ? Long.parseLong(args[3]) : Long.MAX_VALUE;
        Map<String, Double> cpuFirst = new HashMap<>();
        Map<String, Double> cpuSelf = new HashMap<>();
        Map<String, Double> cpuTotal = new HashMap<>();
        Map<String, Double> allocSite = new HashMap<>();
        Map<String, Double> allocClass = new HashMap<>();
        Map<String, Double> allocTotal = new HashMap<>();
        double cpuSamples = 0;
        double allocBytes = 0;
        for (RecordedEvent e : RecordingFile.readAllEvents(Path.of(args[0]))) {
            String type = e.getEventType().getName();
            long at = e.getStartTime().toEpochMilli();
            if (at < from || at > to) {
                continue;
            }
            RecordedStackTrace st = e.getStackTrace();
            if (st == null || st.getFrames().isEmpty()) {
                continue;
            }
            List<RecordedFrame> frames = st.getFrames();
            if (type.equals("jdk.ExecutionSample")) {
                cpuSamples++;
                cpuSelf.merge(name(frames.get(0)), 1.0, Double::sum);
                cpuFirst.merge(firstInteresting(frames), 1.0, Double::sum);
                addTotal(cpuTotal, frames, 1.0);
            } else if (type.equals("jdk.ObjectAllocationSample")) {
                double w = e.getLong("weight");
                allocBytes += w;
                String cls = e.getClass("objectClass").getName();
                allocClass.merge(cls, w, Double::sum);
                allocSite.merge(cls + " <- " + firstInteresting(frames), w, Double::sum);
                addTotal(allocTotal, frames, w);
            }
        }
        print("CPU samples by top frame (self)", cpuSelf, cpuSamples, rows);
        print("CPU samples by first non-JDK frame (self, JDK frames folded into their caller)", cpuFirst, cpuSamples, rows);
        print("CPU samples by frame on stack (total)", cpuTotal, cpuSamples, rows);
        print("Allocation (sampled bytes) by class", allocClass, allocBytes, rows);
        print("Allocation by class <- first non-JDK frame", allocSite, allocBytes, rows);
        print("Allocation by frame on stack (total)", allocTotal, allocBytes, rows);
    }

    private static String name(RecordedFrame f) {
        return f.getMethod().getType().getName() + "." + f.getMethod().getName();
    }

    private static void addTotal(Map<String, Double> total, List<RecordedFrame> frames, double w) {
        Set<String> seen = new HashSet<>();
        for (RecordedFrame f : frames) {
            String n = name(f);
            if (seen.add(n)) {
                total.merge(n, w, Double::sum);
            }
        }
    }

    private static String firstInteresting(List<RecordedFrame> frames) {
        for (RecordedFrame f : frames) {
            String n = name(f);
            if (!n.startsWith("java.") && !n.startsWith("jdk.") && !n.startsWith("sun.")) {
                return n + ":" + f.getLineNumber();
            }
        }
        return name(frames.get(0));
    }

    private static void print(String title, Map<String, Double> m, double all, int rows) {
        System.out.printf("%n### %s (%s)%n%n| %% | frame |%n|---:|---|%n", title,
                title.startsWith("CPU") ? String.format("%.0f samples", all) : String.format("%.0f MB sampled", all / 1e6));
        m.entrySet().stream().sorted(Map.Entry.<String, Double>comparingByValue().reversed()).limit(rows)
                .forEach(en -> System.out.printf("| %.1f | `%s` |%n", 100 * en.getValue() / Math.max(1, all), en.getKey()));
    }
}
