package io.cfrouter.nats;

import io.cfrouter.core.RouteRegistration;
import io.cfrouter.registry.RouteRegistry;
import io.cfrouter.testsupport.FreePort;
import io.cfrouter.testsupport.NatsServerProcess;
import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.Nats;
import io.nats.client.Options;
import org.HdrHistogram.Histogram;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Measures the NATS path against a real nats-server: registrations applied to the table per second from
 * one publisher, and the time from publishing a registration to finding its route with 100 000 routes in
 * the table. Also the two costs inside, on one thread without NATS: decoding, and applying to the registry
 * (CPU time and bytes allocated per message). Not a test: run by hand, see docs/performance.md, "NATS".
 *
 * <p>Arguments (all optional): messages per round (default 1 000 000), rounds (3), latency samples (20 000),
 * publisher ({@code jnats}, the default: a jnats connection publishing one message at a time, as a platform
 * component would; or {@code raw}: the same messages as pre-encoded {@code PUB} frames written straight to
 * a socket, the cheapest publisher there is, which leaves the most CPU to nats-server and the router), and
 * for the jnats publisher a window: at most that many messages published and not yet delivered, so that the
 * backlog (held in the subscriber's heap) stays small. {@code N 0 0} measures only the costs, without NATS.
 *
 * <p>Each round runs twice from the same publisher: once to a <em>ceiling</em> subscriber (a jnats
 * dispatcher whose handler only counts: what nats-server and the jnats client cost with nothing behind
 * them), then to the router. Both print where the CPU went, per stage (publisher, nats-server, the
 * subscriber's jnats reader and dispatcher threads, the rest of the JVM: GC and JIT), in microseconds per
 * message, so that a stage that saturates a core shows as the one near 1 000 000 / rate.
 */
final class NatsRegistrationBenchmark {

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final String SUBJECT = "router.register";
    private static final String CEILING_NAME = "ceiling-subscriber";
    /** At most this many messages published and not yet delivered (the fifth argument; unbounded by default). */
    private static int window;

    private NatsRegistrationBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int messages = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        int samples = args.length > 2 ? Integer.parseInt(args[2]) : 20_000;
        boolean raw = args.length > 3 && args[3].equals("raw");
        if (args.length > 3 && !raw && !args[3].equals("jnats")) {
            throw new IllegalArgumentException("publisher: jnats or raw, not " + args[3]);
        }
        window = args.length > 4 ? Integer.parseInt(args[4]) : Integer.MAX_VALUE;
        if (raw && window != Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a window is for the jnats publisher only");
        }
        System.out.printf(Locale.ROOT, "java %s, %d cores, load average %.2f, jnats %s, publisher %s%n",
                System.getProperty("java.version"), Runtime.getRuntime().availableProcessors(),
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(),
                Nats.CLIENT_VERSION, raw ? "raw" : "jnats");
        costs(Math.min(messages, 200_000), 10);
        if (rounds == 0 && samples == 0) {
            return;
        }
        int monitorPort = FreePort.find();
        try (NatsServerProcess nats = NatsServerProcess.start("-m", Integer.toString(monitorPort))) {
            Monitor monitor = new Monitor(monitorPort);
            for (int round = 1; round <= rounds; round++) {
                byte[][] payloads = payloads(messages, "r" + round + "-");
                ceiling(nats, monitor, payloads, round, raw);
                throughput(nats, monitor, payloads, round, raw);
            }
            if (samples > 0) {
                ceilingLatency(nats, samples);
                latency(nats, samples);
            }
        }
    }

    /** A registration as the platform sends it (the reference example's fields), for a distinct route. */
    private static byte[][] payloads(int n, String prefix) {
        byte[][] out = new byte[n][];
        for (int i = 0; i < n; i++) {
            out[i] = ("{\"host\":\"10." + (i >> 16 & 0xff) + "." + (i >> 8 & 0xff) + "." + (i & 0xff)
                    + "\",\"port\":8080,\"uris\":[\"" + prefix + i + ".apps.example.com\"],"
                    + "\"tags\":{\"component\":\"dea-1\"},\"app\":\"some_app_guid\","
                    + "\"private_instance_id\":\"some_app_instance_id\",\"private_instance_index\":\"0\"}")
                    .getBytes(StandardCharsets.UTF_8);
        }
        return out;
    }

    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) THREADS).getThreadAllocatedBytes(Thread.currentThread().getId());
    }

    /** Decoding alone and applying alone, on this thread: best of {@code rounds}. */
    private static void costs(int n, int rounds) {
        byte[][] payloads = payloads(n, "cost-");
        double decodeRate = 0;
        double applyRate = 0;
        long decodeBytes = 0;
        long applyBytes = 0;
        RouteRegistration[] decoded = new RouteRegistration[n];
        for (int round = 0; round < rounds; round++) {
            long cpu = THREADS.getCurrentThreadCpuTime();
            long allocated = allocatedBytes();
            for (int i = 0; i < n; i++) {
                decoded[i] = RegistryMessageDecoder.decode(payloads[i], w -> { }).registration();
            }
            decodeRate = Math.max(decodeRate, n / ((THREADS.getCurrentThreadCpuTime() - cpu) / 1e9));
            decodeBytes = (allocatedBytes() - allocated) / n;

            RouteRegistry registry = RouteRegistry.builder().build();
            cpu = THREADS.getCurrentThreadCpuTime();
            allocated = allocatedBytes();
            for (RouteRegistration r : decoded) {
                registry.register(r);
            }
            applyRate = Math.max(applyRate, n / ((THREADS.getCurrentThreadCpuTime() - cpu) / 1e9));
            applyBytes = (allocatedBytes() - allocated) / n;
        }
        System.out.printf(Locale.ROOT, "decode alone: %,.0f msgs per CPU-second, %,d bytes allocated per message%n",
                decodeRate, decodeBytes);
        System.out.printf(Locale.ROOT, "registry.register alone (new routes, table growing to %,d): %,.0f msgs per "
                + "CPU-second, %,d bytes allocated per message%n", n, applyRate, applyBytes);
    }

    /** The same publisher, to a subscriber that only counts: what NATS and jnats cost with nothing behind. */
    private static void ceiling(NatsServerProcess nats, Monitor monitor, byte[][] payloads, int round, boolean raw)
            throws Exception {
        AtomicLong received = new AtomicLong();
        Connection subscriber = Nats.connect(new Options.Builder().server(nats.url()).connectionName(CEILING_NAME)
                .build());
        try {
            Dispatcher d = subscriber.createDispatcher(m -> received.lazySet(received.get() + 1));
            d.setPendingLimits(NatsAdapter.PENDING_MESSAGES, NatsAdapter.PENDING_BYTES);
            d.subscribe(SUBJECT);
            subscriber.flush(Duration.ofSeconds(10));
            Run run = publish(nats, monitor, payloads, raw, received::get);
            System.out.printf(Locale.ROOT, "round %d ceiling (no-op jnats subscriber): %s; dropped %d%n",
                    round, run.summary(payloads.length), d.getDroppedCount());
            run.printStages(payloads.length, CEILING_NAME);
        } finally {
            subscriber.close();
        }
    }

    private static void throughput(NatsServerProcess nats, Monitor monitor, byte[][] payloads, int round, boolean raw)
            throws Exception {
        try (RouterUnderTest router = RouterUnderTest.on(nats.port()).start()) {
            Run run = publish(nats, monitor, payloads, raw, router.registry::routeCount);
            NatsStats stats = router.adapter.stats();
            System.out.printf(Locale.ROOT, "round %d router: %s; routes %,d, dropped %d, invalid %d%n",
                    round, run.summary(payloads.length), router.registry.routeCount(),
                    stats.droppedMessages(), stats.invalidMessages());
            run.printStages(payloads.length, "cf-router " + RouterUnderTest.ROUTER_ID);
        }
    }

    /**
     * Publishes every payload as fast as the publisher goes; the clock stops when {@code done} reaches
     * their number (polled every millisecond, so the poller takes no core from the pipeline).
     */
    private static Run publish(NatsServerProcess nats, Monitor monitor, byte[][] payloads, boolean raw,
                               LongSupplier done) throws Exception {
        int n = payloads.length;
        long base = done.getAsLong();
        // The publisher stays open until the CPU is read: its jnats threads end when it closes.
        RawPublisher rawPublisher = raw ? new RawPublisher(nats.port()) : null;
        List<byte[]> frames = raw ? RawPublisher.frames(SUBJECT, payloads) : null;
        Connection publisher = raw ? null : Nats.connect(new Options.Builder().server(nats.url())
                .connectionName("publisher").build());
        try {
            // The payloads (and frames) were just built: move them out of the young generation now, or the
            // first collections of the run would copy them and charge that to the stages measured.
            System.gc();
            Map<String, Long> varzBefore = monitor.varz();
            Cpu before = Cpu.now(nats);
            long start = System.nanoTime();
            if (raw) {
                rawPublisher.publishAll(frames);
            } else {
                for (int i = 0; i < n; i++) {
                    if ((i & 1023) == 0 && i - (done.getAsLong() - base) >= window) {
                        publisher.flushBuffer();
                        while (i - (done.getAsLong() - base) >= window) {
                            Thread.yield();
                        }
                    }
                    publisher.publish(SUBJECT, payloads[i]);
                }
                publisher.flush(Duration.ofSeconds(60));
            }
            long published = System.nanoTime();
            long deadline = start + TimeUnit.MINUTES.toNanos(5);
            while (done.getAsLong() - base < n && System.nanoTime() < deadline) {
                LockSupport.parkNanos(1_000_000);
            }
            long finished = System.nanoTime();
            Cpu after = Cpu.now(nats);
            Map<String, Long> varzAfter = monitor.varz();
            return new Run(start, published, finished, done.getAsLong() - base, before, after, varzBefore, varzAfter);
        } finally {
            if (raw) {
                rawPublisher.close();
            } else {
                publisher.close();
            }
        }
    }

    /** The same one-at-a-time publishing to a subscriber that only counts: NATS and jnats alone. */
    private static void ceilingLatency(NatsServerProcess nats, int samples) throws Exception {
        byte[][] probes = payloads(samples, "ceiling-probe-");
        AtomicLong received = new AtomicLong();
        try (Connection subscriber = Nats.connect(new Options.Builder().server(nats.url()).connectionName(CEILING_NAME)
                .build());
             Connection publisher = RouterUnderTest.platform(nats.url())) {
            Dispatcher d = subscriber.createDispatcher(m -> received.lazySet(received.get() + 1));
            d.subscribe(SUBJECT);
            subscriber.flush(Duration.ofSeconds(10));
            Histogram histogram = oneAtATime(publisher, probes, i -> received.get() > i);
            print("publish -> no-op jnats subscriber called (the ceiling)", 0, histogram);
        }
    }

    private static void latency(NatsServerProcess nats, int samples) throws Exception {
        int tableSize = 100_000;
        byte[][] fill = payloads(tableSize, "fill-");
        byte[][] probes = payloads(samples, "probe-");
        try (RouterUnderTest router = RouterUnderTest.on(nats.port()).start();
             Connection publisher = RouterUnderTest.platform(nats.url())) {
            for (byte[] p : fill) {
                publisher.publish(SUBJECT, p);
            }
            publisher.flush(Duration.ofSeconds(60));
            while (router.registry.routeCount() < tableSize) {
                LockSupport.parkNanos(1_000_000);
            }
            System.gc(); // a table that has been there a while is in the old generation
            Histogram histogram = oneAtATime(publisher, probes,
                    i -> router.registry.lookup("probe-" + i + ".apps.example.com", "/") != null);
            print("publish -> route found", tableSize, histogram);
        }
    }

    /**
     * Publishes the probes one at a time, each once the one before has {@code arrived}, timing each from
     * publish to arrival; the first quarter (at most 5 000) is warm-up and not recorded.
     */
    private static Histogram oneAtATime(Connection publisher, byte[][] probes, java.util.function.IntPredicate arrived)
            throws IOException {
        Histogram histogram = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
        int warmup = Math.min(5_000, probes.length / 4);
        for (int i = 0; i < probes.length; i++) {
            long start = System.nanoTime();
            publisher.publish(SUBJECT, probes[i]);
            publisher.flushBuffer();
            // Yield between checks: on a small machine a pure spin would take a core from nats-server or the
            // router, and measure the scheduler instead.
            while (!arrived.test(i)) {
                Thread.yield();
            }
            long took = System.nanoTime() - start;
            if (i >= warmup) {
                histogram.recordValue(took);
            }
        }
        return histogram;
    }

    private static void print(String what, int tableSize, Histogram histogram) {
        System.out.printf(Locale.ROOT, "%s, %,d routes in the table, %,d samples (one at a time): p50 %.1f us, "
                        + "p90 %.1f us, p99 %.1f us, p99.9 %.1f us, max %.1f us; load average %.2f%n",
                what, tableSize, histogram.getTotalCount(),
                histogram.getValueAtPercentile(50) / 1e3, histogram.getValueAtPercentile(90) / 1e3,
                histogram.getValueAtPercentile(99) / 1e3, histogram.getValueAtPercentile(99.9) / 1e3,
                histogram.getMaxValue() / 1e3, ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }

    /** One publishing run: times, CPU before and after, nats-server's counters before and after. */
    private record Run(long start, long published, long finished, long delivered, Cpu before, Cpu after,
                       Map<String, Long> varzBefore, Map<String, Long> varzAfter) {

        String summary(int n) {
            double seconds = (finished - start) / 1e9;
            return String.format(Locale.ROOT, "%,d of %,d delivered in %.2f s = %,.0f msgs/s wall clock (publisher "
                            + "done after %.2f s); nats-server in %,d out %,d, slow consumers +%d",
                    delivered, n, seconds, delivered / seconds, (published - start) / 1e9,
                    varzAfter.get("in_msgs") - varzBefore.get("in_msgs"),
                    varzAfter.get("out_msgs") - varzBefore.get("out_msgs"),
                    varzAfter.get("slow_consumers") - varzBefore.get("slow_consumers"));
        }

        /**
         * CPU per message of each stage; the subscriber's jnats threads (named after its connection) are told
         * apart by what they run: the reader, the dispatcher (where the router decodes and applies).
         */
        void printStages(int n, String subscriberPrefix) {
            Map<String, Long> stages = new LinkedHashMap<>();
            long threadsTotal = 0;
            for (Map.Entry<Long, Long> e : after.threads.entrySet()) {
                long cpu = e.getValue() - before.threads.getOrDefault(e.getKey(), 0L);
                if (cpu <= 0) {
                    continue;
                }
                threadsTotal += cpu;
                String name = after.names.get(e.getKey());
                String role = after.roles.get(e.getKey());
                String stage;
                if (name.startsWith(subscriberPrefix)) {
                    stage = "subscriber " + role;
                } else if (name.startsWith("publisher") || name.equals("main")) {
                    stage = "publisher " + (name.equals("main") ? "(publishing thread)" : role);
                } else {
                    stage = "other JVM threads";
                }
                stages.merge(stage, cpu, Long::sum);
            }
            stages.put("JVM outside Java threads (GC, JIT)", Math.max(0, after.process - before.process - threadsTotal));
            stages.put("nats-server process", after.server - before.server);
            double wall = (finished - start) / 1e9;
            long total = 0;
            StringBuilder out = new StringBuilder("  CPU per message by stage (us):");
            for (Map.Entry<String, Long> s : stages.entrySet()) {
                total += s.getValue();
                if (s.getValue() * 1000 >= wall * 1e9) { // at least 0.1% of a core
                    out.append(String.format(Locale.ROOT, "%n    %-40s %6.2f us/msg  (%4.0f%% of a core)", s.getKey(),
                            s.getValue() / 1e3 / n, 100.0 * s.getValue() / 1e9 / wall));
                }
            }
            out.append(String.format(Locale.ROOT, "%n    %-40s %6.2f us/msg  (%4.0f%% of a core); system load average "
                            + "%.2f", "all of the above", total / 1e3 / n, 100.0 * total / 1e9 / wall,
                    ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage()));
            long subscriber = stages.entrySet().stream().filter(s -> s.getKey().startsWith("subscriber"))
                    .mapToLong(Map.Entry::getValue).sum();
            out.append(String.format(Locale.ROOT, "%n    subscriber's jnats threads: %,.0f msgs per CPU-second",
                    n / (subscriber / 1e9)));
            System.out.println(out);
        }
    }

    /** CPU time so far: per Java thread (with name and role), this JVM in all, and the nats-server process. */
    private record Cpu(Map<Long, Long> threads, Map<Long, String> names, Map<Long, String> roles, long process,
                       long server) {

        static Cpu now(NatsServerProcess nats) throws IOException {
            Map<Long, Long> threads = new HashMap<>();
            Map<Long, String> names = new HashMap<>();
            Map<Long, String> roles = new HashMap<>();
            for (ThreadInfo info : THREADS.getThreadInfo(THREADS.getAllThreadIds(), Integer.MAX_VALUE)) {
                if (info == null) {
                    continue;
                }
                long cpu = THREADS.getThreadCpuTime(info.getThreadId());
                if (cpu >= 0) {
                    threads.put(info.getThreadId(), cpu);
                    names.put(info.getThreadId(), info.getThreadName());
                    roles.put(info.getThreadId(), role(info.getStackTrace()));
                }
            }
            long process = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                    .getProcessCpuTime();
            return new Cpu(threads, names, roles, process, processCpuNanos(nats.pid()));
        }

        private static String role(StackTraceElement[] stack) {
            for (StackTraceElement frame : stack) {
                String c = frame.getClassName();
                if (c.endsWith("NatsConnectionReader")) {
                    return "jnats reader";
                }
                if (c.endsWith("NatsConnectionWriter")) {
                    return "jnats writer";
                }
                if (c.endsWith("NatsDispatcher")) {
                    return "jnats dispatcher (decode + apply)";
                }
            }
            return "other threads";
        }

        /** utime + stime of a process, from /proc (Linux), in nanoseconds. */
        private static long processCpuNanos(long pid) throws IOException {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
            return ticks * 10_000_000L; // USER_HZ is 100 on Linux
        }
    }

    /** nats-server's monitoring endpoint ({@code -m PORT}): its message counters. */
    private static final class Monitor {
        private static final Pattern COUNTER = Pattern.compile("\"(in_msgs|out_msgs|slow_consumers)\":\\s*(\\d+)");
        private final HttpClient http = HttpClient.newHttpClient();
        private final URI varz;

        Monitor(int port) {
            varz = URI.create("http://127.0.0.1:" + port + "/varz");
        }

        Map<String, Long> varz() throws IOException, InterruptedException {
            String body = http.send(HttpRequest.newBuilder(varz).build(), HttpResponse.BodyHandlers.ofString()).body();
            Map<String, Long> counters = new HashMap<>();
            Matcher m = COUNTER.matcher(body);
            while (m.find()) {
                counters.put(m.group(1), Long.parseLong(m.group(2)));
            }
            return counters;
        }
    }

    /**
     * The cheapest publisher: the NATS text protocol written straight to a socket, every message encoded
     * before the clock starts, written in 64 KiB blocks, then a PING whose PONG says the server has read
     * everything.
     */
    private static final class RawPublisher implements AutoCloseable {
        private final Socket socket = new Socket();
        private final InputStream in;
        private final OutputStream out;

        RawPublisher(int port) throws IOException {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(60_000);
            in = socket.getInputStream();
            out = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
            expectLine("INFO ");
            out.write("CONNECT {\"verbose\":false,\"pedantic\":false,\"name\":\"publisher\"}\r\nPING\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            expectLine("PONG");
        }

        static List<byte[]> frames(String subject, byte[][] payloads) {
            List<byte[]> frames = new ArrayList<>(payloads.length);
            for (byte[] p : payloads) {
                byte[] head = ("PUB " + subject + " " + p.length + "\r\n").getBytes(StandardCharsets.US_ASCII);
                byte[] frame = new byte[head.length + p.length + 2];
                System.arraycopy(head, 0, frame, 0, head.length);
                System.arraycopy(p, 0, frame, head.length, p.length);
                frame[frame.length - 2] = '\r';
                frame[frame.length - 1] = '\n';
                frames.add(frame);
            }
            return frames;
        }

        void publishAll(List<byte[]> frames) throws IOException {
            for (byte[] frame : frames) {
                out.write(frame);
            }
            out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            expectLine("PONG");
        }

        /** Reads lines until one starts with {@code prefix}, answering the server's PINGs on the way. */
        private void expectLine(String prefix) throws IOException {
            while (true) {
                StringBuilder line = new StringBuilder();
                for (int b = in.read(); b != '\n'; b = in.read()) {
                    if (b < 0) {
                        throw new IOException("nats-server closed the connection; got so far: " + line);
                    }
                    line.append((char) b);
                }
                String text = line.toString().strip();
                if (text.startsWith(prefix)) {
                    return;
                }
                if (text.equals("PING")) {
                    out.write("PONG\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                } else {
                    throw new IOException("expected " + prefix + " from nats-server, got: " + text);
                }
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
