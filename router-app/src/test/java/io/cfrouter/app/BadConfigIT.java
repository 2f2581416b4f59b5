package io.cfrouter.app;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** The jar refuses a bad configuration before doing anything: exit 2, one line per problem, no stack trace. */
class BadConfigIT {

    private static final Duration EXIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private String run(String... args) {
        try (RouterProcess router = RouterProcess.start(args)) {
            assertThat(router.awaitExit(EXIT)).as(router.output()).isEqualTo(2);
            String output = router.output();
            assertThat(output).doesNotContain("\tat ").doesNotContain("Exception");
            return output;
        }
    }

    @Test
    void shouldNameEveryBadKeyOfAHoconFileAndExitWith2() throws IOException {
        Path config = Files.writeString(dir.resolve("router.conf"), """
                status { port = 70000 }
                logging.level = verbose
                drain_wait = -1s
                """);

        assertThat(run("--config", config.toString()).lines()).containsExactlyInAnyOrder(
                "status.port: 70000 (expected: 1-65535)",
                "logging.level: verbose (expected: one of debug, error, fatal, info, warn)",
                "drain_wait: -1s (expected: a duration >= 0)");
    }

    @Test
    void shouldNameTheFileAndLineOfAYamlSyntaxError() throws IOException {
        Path config = Files.writeString(dir.resolve("gorouter.yml"), "port: 8081\nstatus:\n  port: 8082\n user: x\n");

        assertThat(run("--config", config.toString()).lines())
                .singleElement().asString().startsWith(config + ":4: ");
    }

    @Test
    void shouldNameAMissingConfigFile() {
        Path missing = dir.resolve("missing.yml");

        assertThat(run("--config", missing.toString()).lines())
                .containsExactly("--config: " + missing + ": no such file");
    }
}
