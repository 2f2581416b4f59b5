package io.cfrouter.app;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class MainTest {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void shouldPrintUsageAndExit0ForHelp() {
        assertThat(run("--help")).isZero();

        assertThat(out.toString(StandardCharsets.UTF_8)).contains("--config FILE", ".yml", "SIGUSR1");
    }

    @Test
    void shouldExitWith2OnAnUnknownOption() {
        assertThat(run("--bogus")).isEqualTo(2);

        assertThat(err()).isEqualTo("--bogus: unknown option (see --help)" + System.lineSeparator());
    }

    @Test
    void shouldExitWith2WhenConfigHasNoFileName() {
        assertThat(run("--config")).isEqualTo(2);

        assertThat(err()).startsWith("--config: missing file name");
    }

    @Test
    void shouldPrintOneLinePerProblemAndExit2ForABadConfiguration(@TempDir Path dir) throws Exception {
        Path config = Files.writeString(dir.resolve("router.yml"), "port: 70000\nbackends:\n  max_attempts: zero\n");

        assertThat(run("--config", config.toString())).isEqualTo(2);

        assertThat(err().lines()).containsExactly("port: 70000 (expected: 1-65535)",
                "backends.max_attempts: zero (expected: an integer >= 1)");
        assertThat(out.size()).isZero();
    }
}
