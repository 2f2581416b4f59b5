package io.cfrouter.nats;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class NatsSettingsTest {

    @Test
    void shouldBuildAServerUrlWithEncodedCredentials() {
        assertThat(new NatsServerAddress("nats.local", 4222, "", "").url()).isEqualTo("nats://nats.local:4222");
        assertThat(new NatsServerAddress("10.0.0.1", 4222, "us er", "p@ss:w/rd").url())
                .isEqualTo("nats://us%20er:p%40ss%3Aw%2Frd@10.0.0.1:4222");
        assertThat(new NatsServerAddress("::1", 4222, null, null).url()).isEqualTo("nats://[::1]:4222");
    }

    @Test
    void shouldNeverShowCredentialsInTheServerName() {
        assertThat(new NatsServerAddress("10.0.0.1", 4222, "user", "secret")).hasToString("10.0.0.1:4222");
    }

    @Test
    void shouldRemoveCredentialsFromMessagesNamingUrls() {
        assertThat(NatsAdapter.withoutCredentials(
                "Unable to connect to NATS servers: [nats://user:secret@127.0.0.1:4222, nats://a:b@h:1]"))
                .isEqualTo("Unable to connect to NATS servers: [nats://127.0.0.1:4222, nats://h:1]");
        assertThat(NatsAdapter.withoutCredentials("nats://127.0.0.1:4222")).isEqualTo("nats://127.0.0.1:4222");
        assertThat(NatsAdapter.withoutCredentials(null)).isEmpty();
    }

    @Test
    void shouldRefuseAServerOutOfRangeOrBlank() {
        assertThatThrownBy(() -> new NatsServerAddress("h", 70000, "", ""))
                .hasMessage("port: 70000 (expected: 1-65535)");
        assertThatThrownBy(() -> new NatsServerAddress(" ", 4222, "", ""))
                .hasMessage("host: empty (expected: a host name or IP)");
    }

    @Test
    void shouldRefuseSettingsWithoutServersOrAttempts() {
        assertThatThrownBy(() -> new NatsSettings(List.of(), "0-id", "10.0.0.1", Duration.ofSeconds(20),
                Duration.ofSeconds(120), true, 3)).hasMessage("servers: empty (expected: at least one NATS server)");
        assertThatThrownBy(() -> new NatsSettings(List.of(new NatsServerAddress("h", 1, "", "")), "0-id", "10.0.0.1",
                Duration.ofSeconds(20), Duration.ofSeconds(120), true, 0)).hasMessage("connectAttempts: 0 (expected: >= 1)");
    }

    @Test
    void shouldSendTheStartPayloadInWholeSecondsUnderBothPruneKeys() {
        NatsSettings settings = new NatsSettings(List.of(new NatsServerAddress("h", 1, "", "")), "3-abc", "10.0.0.9",
                Duration.ofMillis(20_900), Duration.ofSeconds(120), true, 3);

        assertThat(NatsAdapter.startMessage(settings)).containsExactly(
                org.assertj.core.api.Assertions.entry("id", "3-abc"),
                org.assertj.core.api.Assertions.entry("hosts", List.of("10.0.0.9")),
                org.assertj.core.api.Assertions.entry("minimumRegisterIntervalInSeconds", 20L),
                org.assertj.core.api.Assertions.entry("pruneThresholdInSeconds", 120L),
                org.assertj.core.api.Assertions.entry("prunteThresholdInSeconds", 120L));
    }
}
