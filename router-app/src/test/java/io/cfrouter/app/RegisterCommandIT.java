package io.cfrouter.app;

import io.cfrouter.testsupport.Await;
import io.cfrouter.testsupport.NatsServerProcess;
import io.nats.client.Connection;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Subscription;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code java -jar router.jar register ...} as a user runs it: the packaged jar, a real signal. */
class RegisterCommandIT {

    private static final Duration DEADLINE = Duration.ofSeconds(30);

    private NatsServerProcess nats;
    private Connection platform;
    private Process process;
    private Path output;

    @BeforeEach
    void startNats() throws Exception {
        nats = NatsServerProcess.start();
        platform = Nats.connect(nats.url());
        output = Files.createTempFile("register-", ".out");
    }

    @AfterEach
    void stopAll() throws Exception {
        if (process != null && process.isAlive()) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        platform.close();
        nats.close();
        Files.deleteIfExists(output);
    }

    private Process launch(String... args) throws Exception {
        Path jar = Path.of("target", "router.jar");
        assertThat(jar).as("the packaged launcher (mvn package)").exists();
        List<String> command = new java.util.ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar.toString(), "register"));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
    }

    @Test
    void shouldKeepTheRouteRegisteredUntilTerminatedThenUnregisterAndExit0() throws Exception {
        Subscription registers = platform.subscribe("router.register");
        Subscription unregisters = platform.subscribe("router.unregister");
        platform.flush(DEADLINE);

        process = launch("--nats", nats.url(), "--host", "127.0.0.1", "--port", "4567", "--uri", "demo.example.com",
                "--app", "demo-app", "--instance", "demo-1");

        Message first = registers.nextMessage(DEADLINE);
        assertThat(first).as("router.register from the command").isNotNull();
        assertThat(new String(first.getData(), StandardCharsets.UTF_8)).isEqualTo("{\"host\":\"127.0.0.1\","
                + "\"port\":4567,\"uris\":[\"demo.example.com\"],\"app\":\"demo-app\",\"private_instance_id\":\"demo-1\"}");
        // A router starting makes it register again at once.
        platform.publish("router.start", "{\"id\":\"0-x\",\"minimumRegisterIntervalInSeconds\":3600}"
                .getBytes(StandardCharsets.UTF_8));
        assertThat(registers.nextMessage(DEADLINE)).as("registration after router.start").isNotNull();

        process.destroy(); // SIGTERM

        assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(Files.readString(output)).isZero();
        Message gone = unregisters.nextMessage(DEADLINE);
        assertThat(gone).as("router.unregister on the way out").isNotNull();
        assertThat(new String(gone.getData(), StandardCharsets.UTF_8)).contains("\"uris\":[\"demo.example.com\"]");
    }

    @Test
    void shouldExit1WithOneClearLineWhenNoNatsAnswers() throws Exception {
        int port = nats.port();
        nats.kill();

        process = launch("--nats", "nats://127.0.0.1:" + port, "--host", "127.0.0.1", "--port", "4567", "--uri",
                "demo.example.com");

        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).isEqualTo(1);
        Await.until(DEADLINE, "the message", () -> {
            try {
                return Files.readString(output).contains("register: no NATS server answered at [nats://127.0.0.1:"
                        + port + "]");
            } catch (java.io.IOException e) {
                return false;
            }
        });
    }
}
