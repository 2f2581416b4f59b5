// The soak run behind scripts/soak, as a single-file Java program run against the router's shaded jar
// (which carries Undertow and jnats): starts nats-server, backends and the router, churns routes over
// NATS, keeps a steady load, and samples the router every interval into a CSV and a summary.

import io.nats.client.Connection;
import io.nats.client.Nats;
import io.undertow.Undertow;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

public class SoakDriver {

    static final int STEADY_ROUTES = 10;
    static final int BACKENDS = 4;
    static final String AUTH = "Basic " + Base64.getEncoder().encodeToString("soak:soak".getBytes());

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = new TreeMap<>(Map.of("duration", "3600", "interval", "10", "rate", "1000",
                "out", "target/soak", "jar", "router-app/target/router.jar", "probes", "2",
                "java-opts", "-Xms512m -Xmx512m -XX:+AlwaysPreTouch"));
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--") || !opts.containsKey(args[i].substring(2))) {
                System.err.println(args[i] + ": unknown option (expected: --duration S --interval S --rate N"
                        + " --out DIR --jar FILE --probes N --java-opts \"OPTIONS\")");
                System.exit(2);
            }
            opts.put(args[i].substring(2), args[i + 1]);
        }
        int duration = Integer.parseInt(opts.get("duration"));
        int interval = Integer.parseInt(opts.get("interval"));
        int rate = Integer.parseInt(opts.get("rate"));
        int probes = Integer.parseInt(opts.get("probes"));
        Path out = Path.of(opts.get("out"));
        Files.createDirectories(out);
        List<String> javaOpts = List.of(opts.get("java-opts").trim().split("\\s+"));
        new SoakDriver().run(duration, interval, rate, probes, Path.of(opts.get("jar")), out, javaOpts);
    }

    final List<Process> processes = new ArrayList<>();
    final List<Undertow> backends = new ArrayList<>();
    final AtomicBoolean running = new AtomicBoolean(true);
    final AtomicLong requests = new AtomicLong();
    final AtomicLong errors = new AtomicLong();
    final Map<String, AtomicLong> errorKinds = new ConcurrentHashMap<>();
    final List<Long> latencies = new ArrayList<>();

    void run(int duration, int interval, int rate, int probes, Path jar, Path out, List<String> javaOpts)
            throws Exception {
        Runtime.getRuntime().addShutdownHook(new Thread(this::stopAll));
        int natsPort = freePort();
        processes.add(new ProcessBuilder(natsBinary(), "-a", "127.0.0.1", "-p", Integer.toString(natsPort))
                .redirectErrorStream(true).redirectOutput(out.resolve("nats-server.log").toFile()).start());
        awaitPort(natsPort);
        int[] backendPorts = new int[BACKENDS];
        for (int i = 0; i < BACKENDS; i++) {
            String name = "backend-" + i;
            Undertow u = Undertow.builder().addHttpListener(0, "127.0.0.1")
                    .setHandler(ex -> ex.getResponseSender().send(name)).build();
            u.start();
            backends.add(u);
            backendPorts[i] = ((InetSocketAddress) u.getListenerInfo().get(0).getAddress()).getPort();
        }
        int proxyPort = freePort();
        int statusPort = freePort();
        Path config = out.resolve("router.conf");
        Files.writeString(config, """
                host = "127.0.0.1"
                port = %d
                status { port = %d, user = soak, pass = soak }
                nats = [{ host = "127.0.0.1", port = %d }]
                start_response_delay_interval = 0s
                droplet_stale_threshold = 20s
                prune_stale_droplets_interval = 5s
                logging.level = warn
                """.formatted(proxyPort, statusPort, natsPort));
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>();
        command.add(java);
        command.addAll(javaOpts);
        command.addAll(List.of("-jar", jar.toString(), "--config", config.toString()));
        Files.writeString(out.resolve("router-command.txt"), String.join(" ", command) + "\n");
        Process router = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(out.resolve("router.log").toFile()).start();
        processes.add(router);
        awaitHealthy(statusPort, router);

        Connection nats = Nats.connect("nats://127.0.0.1:" + natsPort);
        for (int r = 0; r < STEADY_ROUTES; r++) {
            for (int port : backendPorts) {
                publish(nats, "router.register", "steady-" + r + ".soak.example.com", port);
            }
        }
        nats.flush(Duration.ofSeconds(10));
        awaitServed(proxyPort, "steady-0.soak.example.com");

        Thread emitter = daemon("emitter", () -> emit(nats, rate, backendPorts));
        emitter.start();
        List<Thread> probeThreads = new ArrayList<>();
        for (int i = 0; i < probes; i++) {
            int n = i;
            Thread t = daemon("probe-" + i, () -> probe(proxyPort, n));
            probeThreads.add(t);
            t.start();
        }
        Process wrk = null;
        Path wrkOut = out.resolve("wrk.txt");
        if (onPath("wrk")) {
            wrk = new ProcessBuilder("wrk", "-t1", "-c32", "-d" + duration + "s", "--latency", "-H",
                    "Host: steady-1.soak.example.com", "http://127.0.0.1:" + proxyPort + "/")
                    .redirectErrorStream(true).redirectOutput(wrkOut.toFile()).start();
            processes.add(wrk);
        }

        Path csv = out.resolve("soak.csv");
        List<long[]> samples = new ArrayList<>();
        long start = System.nanoTime();
        try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(csv))) {
            w.println("elapsed_s,rss_kb,open_fds,requests,errors,p99_ms,urls,droplets");
            for (int tick = 1; (long) tick * interval <= duration; tick++) {
                long due = start + TimeUnit.SECONDS.toNanos((long) tick * interval);
                while (System.nanoTime() < due) {
                    TimeUnit.MILLISECONDS.sleep(Math.max(1, TimeUnit.NANOSECONDS.toMillis(due - System.nanoTime())));
                }
                if (!router.isAlive()) {
                    System.err.println("soak: the router exited with " + router.exitValue() + "; see "
                            + out.resolve("router.log"));
                    break;
                }
                long[] lat;
                synchronized (latencies) {
                    lat = latencies.stream().mapToLong(Long::longValue).toArray();
                    latencies.clear();
                }
                Arrays.sort(lat);
                long p99 = lat.length == 0 ? -1 : lat[(int) Math.ceil(lat.length * 0.99) - 1];
                String varz = get(statusPort, "localhost", "/varz", AUTH);
                long[] s = {(long) tick * interval, rss(router.pid()), fds(router.pid()), requests.getAndSet(0),
                        errors.getAndSet(0), p99, jsonLong(varz, "urls"), jsonLong(varz, "droplets")};
                samples.add(s);
                w.printf(Locale.ROOT, "%d,%d,%d,%d,%d,%.3f,%d,%d%n", s[0], s[1], s[2], s[3], s[4], s[5] / 1e6,
                        s[6], s[7]);
                w.flush();
                System.err.printf(Locale.ROOT, "soak: %5ds rss %d KiB, fds %d, %d probe requests, %d errors, "
                        + "p99 %.2f ms, %d routes%n", s[0], s[1], s[2], s[3], s[4], s[5] / 1e6, s[6]);
            }
        }
        running.set(false);
        if (wrk != null) {
            wrk.waitFor(30, TimeUnit.SECONDS);
        }
        String summary = summary(samples, wrk == null ? null : Files.readString(wrkOut));
        Files.writeString(out.resolve("summary.txt"), summary);
        System.out.print(summary);
        nats.close();
        stopAll();
        System.exit(summary.contains("verdict: FLAT") ? 0 : 1);
    }

    /** 60 % registrations of new routes, 40 % unregistrations of routes 2 s old; the rest expire. */
    void emit(Connection nats, int rate, int[] ports) {
        int registers = rate * 3 / 5;
        int unregisters = rate - registers;
        long next = System.nanoTime();
        for (long tick = 0; running.get(); tick++) {
            int port = ports[(int) (tick % ports.length)];
            for (int j = 0; j < registers; j++) {
                publish(nats, "router.register", "churn-" + tick + "-" + j + ".soak.example.com", port);
            }
            if (tick >= 2) {
                int oldPort = ports[(int) ((tick - 2) % ports.length)];
                for (int j = 0; j < unregisters; j++) {
                    publish(nats, "router.unregister", "churn-" + (tick - 2) + "-" + j + ".soak.example.com", oldPort);
                }
            }
            if (tick % 5 == 0) {
                for (int r = 0; r < STEADY_ROUTES; r++) {
                    for (int p : ports) {
                        publish(nats, "router.register", "steady-" + r + ".soak.example.com", p);
                    }
                }
            }
            next += TimeUnit.SECONDS.toNanos(1);
            try {
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Back-to-back GETs on one keep-alive connection (reopened after an error), timing each. */
    void probe(int port, int n) {
        Socket socket = null;
        for (long i = 0; running.get(); i++) {
            String host = "steady-" + ((n + i) % STEADY_ROUTES) + ".soak.example.com";
            long t0 = System.nanoTime();
            try {
                if (socket == null) {
                    socket = new Socket();
                    socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
                    socket.setSoTimeout(10_000);
                    socket.setTcpNoDelay(true);
                }
                OutputStream o = socket.getOutputStream();
                o.write(("GET /probe HTTP/1.1\r\nHost: " + host + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                o.flush();
                int status = readResponse(socket.getInputStream());
                long took = System.nanoTime() - t0;
                requests.incrementAndGet();
                if (status != 200) {
                    error("status " + status);
                } else {
                    synchronized (latencies) {
                        latencies.add(took);
                    }
                }
            } catch (IOException | RuntimeException e) {
                requests.incrementAndGet();
                error(e.getClass().getSimpleName() + ": " + e.getMessage());
                try {
                    if (socket != null) {
                        socket.close();
                    }
                } catch (IOException ignored) {
                    // reopened below
                }
                socket = null;
            }
        }
    }

    void error(String kind) {
        errors.incrementAndGet();
        errorKinds.computeIfAbsent(kind, k -> new AtomicLong()).incrementAndGet();
    }

    /** Reads one response with a Content-Length or chunked body; returns its status. */
    static int readResponse(InputStream in) throws IOException {
        String status = line(in);
        if (status == null) {
            throw new IOException("connection closed before a response");
        }
        long length = 0;
        boolean chunked = false;
        for (String l = line(in); l != null && !l.isEmpty(); l = line(in)) {
            String lower = l.toLowerCase(Locale.ROOT);
            if (lower.startsWith("content-length:")) {
                length = Long.parseLong(lower.substring(15).trim());
            } else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
                chunked = true;
            }
        }
        if (chunked) {
            for (long size = Long.parseLong(line(in).trim(), 16); size > 0; size = Long.parseLong(line(in).trim(), 16)) {
                in.readNBytes((int) size + 2);
            }
            line(in);
        } else {
            in.readNBytes((int) length);
        }
        return Integer.parseInt(status.split(" ")[1]);
    }

    static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0 && c != '\n') {
            if (c != '\r') {
                b.write(c);
            }
        }
        return c < 0 && b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
    }

    String summary(List<long[]> samples, String wrk) {
        StringBuilder s = new StringBuilder();
        s.append("soak summary (").append(Instant.now()).append(")\n");
        if (samples.size() < 4) {
            return s.append("too few samples (").append(samples.size()).append("): verdict: NOT FLAT\n").toString();
        }
        // Warm-up (JIT, the table filling up to its churn steady state: threshold + prune interval) is the
        // first minute or fifth of the run, whichever is shorter; then compare the first quarter with the last.
        long warmUpSeconds = Math.min(60, samples.get(samples.size() - 1)[0] / 5);
        int skip = (int) samples.stream().filter(x -> x[0] <= warmUpSeconds).count();
        skip = Math.min(skip, samples.size() - 2);
        int q = Math.max(1, (samples.size() - skip) / 4);
        List<long[]> first = samples.subList(skip, skip + q);
        List<long[]> last = samples.subList(samples.size() - q, samples.size());
        double rssFirst = mean(first, 1);
        double rssLast = mean(last, 1);
        double fdsFirst = mean(first, 2);
        double fdsLast = mean(last, 2);
        double p99First = median(first, 5);
        double p99Last = median(last, 5);
        long totalErrors = samples.stream().mapToLong(x -> x[4]).sum();
        long totalRequests = samples.stream().mapToLong(x -> x[3]).sum();
        boolean rssFlat = rssLast <= rssFirst * 1.2;
        boolean fdsFlat = fdsLast <= fdsFirst + 20;
        boolean p99Flat = p99Last <= Math.max(2 * p99First, 2e6);
        boolean noErrors = totalErrors == 0;
        s.append(String.format(Locale.ROOT, "samples: %d, probe requests: %d, errors: %d %s%n", samples.size(),
                totalRequests, totalErrors, errorKinds));
        s.append(String.format(Locale.ROOT, "rss KiB: first quarter %.0f, last quarter %.0f, max %d: %s%n",
                rssFirst, rssLast, samples.stream().mapToLong(x -> x[1]).max().orElse(0), rssFlat ? "flat" : "GROWING"));
        s.append(String.format(Locale.ROOT, "open fds: first quarter %.1f, last quarter %.1f, max %d: %s%n",
                fdsFirst, fdsLast, samples.stream().mapToLong(x -> x[2]).max().orElse(0), fdsFlat ? "flat" : "GROWING"));
        s.append(String.format(Locale.ROOT, "probe p99 ms: first quarter %.2f, last quarter %.2f, worst %.2f: %s%n",
                p99First / 1e6, p99Last / 1e6, samples.stream().mapToLong(x -> x[5]).max().orElse(0) / 1e6,
                p99Flat ? "flat" : "GROWING"));
        s.append(String.format(Locale.ROOT, "routes: min %d, max %d%n", samples.stream().mapToLong(x -> x[6]).min()
                .orElse(0), samples.stream().mapToLong(x -> x[6]).max().orElse(0)));
        if (wrk != null) {
            s.append("wrk (steady background load):\n");
            wrk.lines().filter(l -> l.contains("Requests/sec") || l.contains("requests in") || l.contains("Non-2xx")
                    || l.contains("Socket errors") || l.matches("\\s+(50|99)%.*") || l.contains("Latency "))
                    .forEach(l -> s.append("  ").append(l.trim()).append('\n'));
            boolean wrkErrors = wrk.contains("Non-2xx") || wrk.contains("Socket errors");
            noErrors &= !wrkErrors;
        }
        s.append("verdict: ").append(rssFlat && fdsFlat && p99Flat && noErrors ? "FLAT" : "NOT FLAT").append('\n');
        return s.toString();
    }

    static double mean(List<long[]> rows, int col) {
        return rows.stream().mapToLong(x -> x[col]).average().orElse(0);
    }

    static double median(List<long[]> rows, int col) {
        long[] v = rows.stream().mapToLong(x -> x[col]).sorted().toArray();
        return v[v.length / 2];
    }

    static void publish(Connection nats, String subject, String uri, int port) {
        nats.publish(subject, ("{\"host\":\"127.0.0.1\",\"port\":" + port + ",\"uris\":[\"" + uri + "\"]}")
                .getBytes(StandardCharsets.UTF_8));
    }

    static long jsonLong(String json, String key) {
        int i = json.indexOf("\"" + key + "\":");
        if (i < 0) {
            return -1;
        }
        int start = i + key.length() + 3;
        int end = start;
        while (end < json.length() && (Character.isDigit(json.charAt(end)) || json.charAt(end) == '-')) {
            end++;
        }
        return end == start ? -1 : Long.parseLong(json.substring(start, end));
    }

    static long rss(long pid) throws IOException {
        return Files.readAllLines(Path.of("/proc", Long.toString(pid), "status")).stream()
                .filter(l -> l.startsWith("VmRSS:")).mapToLong(l -> Long.parseLong(l.replaceAll("[^0-9]", "")))
                .findFirst().orElse(-1);
    }

    static long fds(long pid) throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            return s.count();
        }
    }

    static String get(int port, String host, String path, String auth) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n"
                    + (auth == null ? "" : "Authorization: " + auth + "\r\n") + "Connection: close\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            return all;
        }
    }

    static void awaitHealthy(int statusPort, Process router) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (!router.isAlive()) {
                throw new IllegalStateException("the router exited with " + router.exitValue());
            }
            try {
                if (get(statusPort, "localhost", "/health", null).startsWith("HTTP/1.1 200")) {
                    return;
                }
            } catch (IOException notYet) {
                // starting
            }
            TimeUnit.MILLISECONDS.sleep(100);
        }
        throw new IllegalStateException("the router was not healthy after 60 s");
    }

    static void awaitServed(int port, String host) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (get(port, host, "/", null).startsWith("HTTP/1.1 200")) {
                return;
            }
            TimeUnit.MILLISECONDS.sleep(100);
        }
        throw new IllegalStateException(host + " not served after 30 s");
    }

    static void awaitPort(int port) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException notYet) {
                TimeUnit.MILLISECONDS.sleep(50);
            }
        }
        throw new IllegalStateException("nothing listening on " + port);
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static boolean onPath(String name) {
        return Stream.of(System.getenv().getOrDefault("PATH", "").split(":"))
                .anyMatch(d -> Files.isExecutable(Path.of(d, name)));
    }

    static String natsBinary() {
        for (String name : List.of("nats-server", "gnatsd")) {
            if (onPath(name)) {
                return name;
            }
        }
        throw new IllegalStateException("nats-server not found on PATH");
    }

    static Thread daemon(String name, Runnable r) {
        Thread t = new Thread(r, "soak-" + name);
        t.setDaemon(true);
        return t;
    }

    void stopAll() {
        running.set(false);
        for (Process p : processes) {
            p.destroy();
        }
        for (Process p : processes) {
            try {
                if (!p.waitFor(15, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        backends.forEach(Undertow::stop);
        backends.clear();
    }
}
