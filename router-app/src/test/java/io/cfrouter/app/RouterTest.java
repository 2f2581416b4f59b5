package io.cfrouter.app;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class RouterTest {

    @Test
    void shouldMaskCredentialsInServerUrlsOfAMessage() {
        assertThat(Router.withoutCredentials("Unable to connect to NATS servers: [nats://nats:s3cr%40t@10.0.0.1:4222, "
                + "nats://10.0.0.2:4222]"))
                .isEqualTo("Unable to connect to NATS servers: [nats://***@10.0.0.1:4222, nats://10.0.0.2:4222]");
    }

    @Test
    void shouldWriteDurationsAsTheConfigurationDoes() {
        assertThat(Router.human(Duration.ofSeconds(120))).isEqualTo("120s");
        assertThat(Router.human(Duration.ofMillis(1500))).isEqualTo("1500ms");
        assertThat(Router.human(Duration.ZERO)).isEqualTo("0s");
    }
}
