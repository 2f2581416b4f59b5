package io.cfrouter.app;

import io.cfrouter.testsupport.Await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The shaded router jar ({@code target/router.jar}, built in the package phase) run as a child process,
 * the way an operator runs it. Standard output and error go to one file, read with {@link #output()}.
 */
final class RouterProcess implements AutoCloseable {

    private static final Path JAR = Path.of("target", "router.jar");

    private final Process process;
    private final Path output;

    private RouterProcess(Process process, Path output) {
        this.process = process;
        this.output = output;
    }

    /** The HOCON lines every test config starts with: loopback listeners on the given ports, one NATS server. */
    static String listeners(int proxyPort, int statusPort, int natsPort) {
        return """
                host = "127.0.0.1"
                port = %d
                status.port = %d
                nats = [{ host = "127.0.0.1", port = %d }]
                """.formatted(proxyPort, statusPort, natsPort);
    }

    /** Runs {@code java -jar router.jar} with {@code args}. */
    static RouterProcess start(String... args) {
        if (!Files.isRegularFile(JAR)) {
            throw new IllegalStateException(JAR.toAbsolutePath() + " is missing: run the integration tests with "
                    + "mvn verify, which packages it first");
        }
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xshare:auto");
        command.add("-XX:TieredStopAtLevel=1");
        command.add("-jar");
        command.add(JAR.toString());
        command.addAll(List.of(args));
        try {
            Path output = Files.createTempFile("router-process-", ".out");
            Process process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile())
                    .start();
            return new RouterProcess(process, output);
        } catch (IOException e) {
            throw new UncheckedIOException("could not run " + command, e);
        }
    }

    /** Everything the process wrote so far. */
    String output() {
        try {
            return Files.readString(output);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Waits until the output contains {@code text}. */
    void awaitOutput(String text, Duration timeout) {
        try {
            Await.until(timeout, "router output to contain '" + text + "'", () -> output().contains(text));
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; output:\n" + tail(), e);
        }
    }

    /** Waits for the process to exit and returns its exit code; fails (showing the output) after timeout. */
    int awaitExit(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError("router still running after " + timeout + "; output:\n" + output());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
        return process.exitValue();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** Sends {@code SIG<name>} (TERM, USR1, INT) to the process. */
    void signal(String name) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid()))
                    .redirectErrorStream(true).start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new AssertionError("kill -" + name + " " + process.pid() + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    private String tail() {
        String all = output();
        return all.length() > 4000 ? all.substring(all.length() - 4000) : all;
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            Files.deleteIfExists(output);
        } catch (IOException ignored) {
            // a temp file; the OS cleans up
        }
    }
}
