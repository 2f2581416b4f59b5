package io.cfrouter.app.reliability;

import io.cfrouter.testsupport.Await;
import io.cfrouter.testsupport.FreePort;
import io.cfrouter.testsupport.HttpExchange;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The router as its own process, started from the shaded jar the package phase builds, so faults can
 * be counted from outside ({@code /proc/<pid>/fd}, RSS) and signals are real. Status credentials are
 * admin/secret.
 */
final class RouterProcess implements AutoCloseable {

    static final String AUTH = "Authorization: Basic "
            + Base64.getEncoder().encodeToString("admin:secret".getBytes());

    private final Process process;
    private final Path log;
    private final int proxyPort;
    private final int statusPort;

    private RouterProcess(Process process, Path log, int proxyPort, int statusPort) {
        this.process = process;
        this.log = log;
        this.proxyPort = proxyPort;
        this.statusPort = statusPort;
    }

    /**
     * Starts the router against NATS on {@code natsPort}; {@code extraConfig} is HOCON appended to the
     * base configuration (later keys win). Returns once {@code /health} answers 200.
     */
    static RouterProcess start(int natsPort, String extraConfig) {
        Path jar = jar();
        int[] ports = FreePort.find(2);
        int proxyPort = ports[0];
        int statusPort = ports[1];
        try {
            Path config = Files.createTempFile("cf-router-reliability-", ".conf");
            Files.writeString(config, """
                    host = "127.0.0.1"
                    port = %d
                    status { port = %d, user = admin, pass = secret }
                    nats = [{ host = "127.0.0.1", port = %d }]
                    start_response_delay_interval = 0s
                    """.formatted(proxyPort, statusPort, natsPort) + extraConfig);
            Path log = Files.createTempFile("cf-router-reliability-", ".log");
            String java = ProcessHandle.current().info().command().orElse("java");
            Process process = new ProcessBuilder(java, "-Xms64m", "-Xmx512m", "-jar", jar.toString(),
                    "--config", config.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            RouterProcess router = new RouterProcess(process, log, proxyPort, statusPort);
            router.awaitHealthy();
            return router;
        } catch (IOException e) {
            throw new UncheckedIOException("could not start the router from " + jar, e);
        }
    }

    private static Path jar() {
        Path jar = Path.of(System.getProperty("cfrouter.jar", "target/router.jar")).toAbsolutePath();
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: these tests run in the integration-test "
                    + "phase (mvn verify), after the package phase has built it; or set -Dcfrouter.jar");
        }
        return jar;
    }

    private void awaitHealthy() {
        Await.until(Duration.ofSeconds(30), "the router to answer /health with 200; log: " + log, () -> {
            if (!process.isAlive()) {
                throw new AssertionError("router exited with " + process.exitValue() + ": " + log());
            }
            try {
                return HttpExchange.get(statusPort, "localhost", "/health").status() == 200
                        && HttpExchange.get(proxyPort, "localhost", "/", "User-Agent: HTTP-Monitor/1.1")
                        .status() == 200;
            } catch (UncheckedIOException notYet) {
                return false;
            }
        });
    }

    int proxyPort() {
        return proxyPort;
    }

    int statusPort() {
        return statusPort;
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** Open file descriptors of the router process. */
    int openFds() {
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid()), "fd"))) {
            return (int) fds.count();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the router's file descriptors", e);
        }
    }

    /** {@code GET path} on the proxy port with the given {@code Host}. */
    HttpExchange.Response get(String host, String path, String... headerLines) {
        return HttpExchange.get(proxyPort, host, path, headerLines);
    }

    /** A status-server page with the right credentials. */
    HttpExchange.Response status(String path) {
        return HttpExchange.get(statusPort, "localhost", path, AUTH);
    }

    /**
     * Registers {@code 127.0.0.1:port} for {@code host} over NATS (app {@code app-<instanceId>} when given) and
     * waits until {@code /routes} lists it.
     */
    void route(String natsUrl, String host, int port, String instanceId) {
        try (Registrar registrar = new Registrar(natsUrl)) {
            registrar.register(host, port, instanceId);
            registrar.flush();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        Await.until(Duration.ofSeconds(10), host + " -> 127.0.0.1:" + port + " in /routes", () -> {
            String routes = status("/routes").bodyText();
            return routes.contains("\"" + host + "\"") && routes.contains("\"127.0.0.1:" + port + "\"");
        });
    }

    /** Sends SIGTERM, as an orchestrator stopping the router would. */
    void terminate() {
        process.destroy();
    }

    /** Waits for the process to exit and returns its exit code. */
    int awaitExit(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError("router still running " + timeout + " after it was told to stop; log: "
                        + log());
            }
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Everything the router wrote to stdout and stderr so far. */
    String log() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /**
     * Closes each of {@code resources} that is not null, in order, even when one fails or a test's set-up
     * stopped half-way (a NATS server left running would outlive the build); rethrows the first failure.
     */
    static void closeAll(AutoCloseable... resources) {
        RuntimeException first = null;
        for (AutoCloseable resource : resources) {
            try {
                if (resource != null) {
                    resource.close();
                }
            } catch (Exception e) {
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                if (first == null) {
                    first = new IllegalStateException("could not close " + resource, e);
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    @Override
    public void close() {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
