package io.cfrouter.status;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

class StatusSettingsTest {

    @Test
    void shouldGenerateOnlyTheMissingCredentials() {
        StatusSettings generated = new StatusSettings("127.0.0.1", 0, "admin", "").withGeneratedCredentials();
        assertThat(generated.user()).isEqualTo("admin");
        assertThat(generated.pass()).matches("[0-9a-f]{24}");

        StatusSettings both = new StatusSettings("127.0.0.1", 0, "", "").withGeneratedCredentials();
        assertThat(both.user()).matches("[0-9a-f]{24}");
        assertThat(both.pass()).matches("[0-9a-f]{24}").isNotEqualTo(both.user());
    }

    @Test
    void shouldKeepConfiguredCredentials() {
        StatusSettings given = new StatusSettings("127.0.0.1", 8082, "admin", "secret");
        assertThat(given.withGeneratedCredentials()).isSameAs(given);
    }

    @Test
    void shouldRefuseAPortOutOfRange() {
        assertThatIllegalArgumentException().isThrownBy(() -> new StatusSettings("h", 70000, "u", "p"))
                .withMessage("port: 70000 (expected: 0-65535)");
    }

    @Test
    void shouldNotShowThePasswordInToString() {
        assertThat(new StatusSettings("h", 1, "u", "hunter2").toString()).doesNotContain("hunter2");
    }
}
