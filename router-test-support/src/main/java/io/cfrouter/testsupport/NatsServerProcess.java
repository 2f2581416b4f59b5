package io.cfrouter.testsupport;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code nats-server} process on a free loopback port, for integration tests. The binary is
 * found on {@code PATH} (or in {@code NATS_SERVER}); when it is missing, {@link #start()} fails with a
 * message saying how to install it: tests that need NATS never skip.
 */
public final class NatsServerProcess implements AutoCloseable {

    private final int port;
    private final List<String> extraArgs;
    private Process process;
    private Path logFile;

    private NatsServerProcess(int port, List<String> extraArgs) {
        this.port = port;
        this.extraArgs = List.copyOf(extraArgs);
    }

    /** Starts a server on a free port. */
    public static NatsServerProcess start(String... extraArgs) {
        NatsServerProcess server = new NatsServerProcess(FreePort.find(), List.of(extraArgs));
        server.startProcess();
        return server;
    }

    /** The client URL, {@code nats://127.0.0.1:PORT}. */
    public String url() {
        return "nats://127.0.0.1:" + port;
    }

    /** The port the server listens on (kept across restarts). */
    public int port() {
        return port;
    }

    /** The operating-system process id of the running server (for benchmarks that read its CPU time). */
    public long pid() {
        if (process == null) {
            throw new IllegalStateException("nats-server is not running");
        }
        return process.pid();
    }

    /** Whether the process is running. */
    public boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** Kills the server at once (SIGKILL), as a crash would. */
    public void kill() {
        if (process != null) {
            process.destroyForcibly();
            waitFor(process);
            process = null;
        }
    }

    /** Stops the server gracefully (SIGTERM). */
    public void stop() {
        if (process != null) {
            process.destroy();
            waitFor(process);
            process = null;
        }
    }

    /** Starts the server again on the same port. */
    public void restart() {
        if (isRunning()) {
            stop();
        }
        startProcess();
    }

    @Override
    public void close() {
        kill();
    }

    private void startProcess() {
        String binary = findBinary();
        List<String> command = new ArrayList<>();
        command.add(binary);
        command.add("-a");
        command.add("127.0.0.1");
        command.add("-p");
        command.add(Integer.toString(port));
        command.addAll(extraArgs);
        try {
            logFile = Files.createTempFile("nats-server-" + port + "-", ".log");
            process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(logFile.toFile())
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("could not start " + command, e);
        }
        awaitListening(Duration.ofSeconds(10));
    }

    private void awaitListening(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("nats-server exited with " + process.exitValue() + ": " + log());
            }
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException notYet) {
                pause();
            }
        }
        throw new IllegalStateException("nats-server not listening on " + port + " after " + timeout + ": " + log());
    }

    private String log() {
        try {
            return logFile == null ? "" : Files.readString(logFile);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    private static void pause() {
        try {
            TimeUnit.MILLISECONDS.sleep(20);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static void waitFor(Process p) {
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The {@code nats-server} binary, or an exception saying how to get one. */
    public static String findBinary() {
        String configured = System.getenv("NATS_SERVER");
        if (configured != null && !configured.isBlank()) {
            return configured;
        }
        String path = System.getenv().getOrDefault("PATH", "");
        for (String dir : path.split(File.pathSeparator)) {
            for (String name : List.of("nats-server", "gnatsd")) {
                File candidate = new File(dir, name);
                if (candidate.canExecute()) {
                    return candidate.getAbsolutePath();
                }
            }
        }
        throw new IllegalStateException("nats-server not found on PATH: install it (Debian: apt-get install "
                + "nats-server) or run scripts/test, which does; or set NATS_SERVER to the binary");
    }
}
