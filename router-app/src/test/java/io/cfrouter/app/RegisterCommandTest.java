package io.cfrouter.app;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class RegisterCommandTest {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void shouldPrintUsageForHelp() {
        assertThat(run("register", "--help")).isZero();

        assertThat(out.toString(StandardCharsets.UTF_8)).startsWith("Usage: java -jar router.jar register --nats URL");
        assertThat(err.toString(StandardCharsets.UTF_8)).isEmpty();
    }

    @Test
    void shouldMentionTheSubcommandInTheMainUsage() {
        assertThat(run("--help")).isZero();

        assertThat(out.toString(StandardCharsets.UTF_8)).contains("register --nats URL");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "--host 127.0.0.1 --port 4567 --uri a.com                       | --nats: missing (expected: --nats nats://host:port)",
            "--nats nats://h:4222 --port 4567 --uri a.com                   | --host: missing (expected: the backend's IP or host name)",
            "--nats nats://h:4222 --host h --uri a.com                      | --port: missing (expected: the backend's port, 1-65535)",
            "--nats nats://h:4222 --host h --port 4567                      | --uri: missing (expected: at least one route, e.g. app.example.com)",
            "--nats nats://h:4222 --host h --port 70000 --uri a.com         | --port: 70000 (expected: 1-65535)",
            "--nats nats://h:4222 --host h --port http --uri a.com          | --port: http (expected: 1-65535)",
            "--nats http://h:4222 --host h --port 1 --uri a.com             | --nats: http://h:4222 (expected: nats://host:port)",
            "--nats nats://h:4222 --host h --port 1 --uri a.com --bogus x   | --bogus: unknown option (see register --help)",
            "--nats nats://h:4222 --host h --port 1 --uri                   | --uri: missing value (see register --help)",
            "--nats nats://h:4222 --host h --port 1 --uri /path             | uri: '/path' (expected: host[/path])",
    })
    void shouldRefuseBadArgumentsWithOneLineAndExit2(String args, String message) {
        List<String> argv = new java.util.ArrayList<>(List.of("register"));
        argv.addAll(List.of(args.trim().split(" +")));

        assertThat(run(argv.toArray(String[]::new))).isEqualTo(2);

        assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo(message + System.lineSeparator());
        assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty();
    }

    @Test
    void shouldAcceptSeveralServersAndUris() throws Exception {
        RegisterCommand.Arguments a = RegisterCommand.parse(new String[] {"--nats", "nats://a:1,b:2", "--nats",
                "nats://u:p@c:3", "--host", "10.0.0.1", "--port", "80", "--uri", "x.com", "--uri", "y.com/p",
                "--app", "guid", "--instance", "i-1"});

        assertThat(a).isEqualTo(new RegisterCommand.Arguments(List.of("nats://a:1", "nats://b:2", "nats://u:p@c:3"),
                "10.0.0.1", 80, List.of("x.com", "y.com/p"), "guid", "i-1"));
    }
}
