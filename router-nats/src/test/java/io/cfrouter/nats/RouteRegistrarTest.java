package io.cfrouter.nats;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RouteRegistrarTest {

    @Test
    void shouldRefuseAnIncompleteOrInvalidConfiguration() {
        assertThatThrownBy(() -> RouteRegistrar.builder().servers("nats://h:4222").uri("a.com").build())
                .hasMessage("endpoint: missing (expected: endpoint(host, port))");
        assertThatThrownBy(() -> RouteRegistrar.builder().servers("nats://h:4222").endpoint("h", 1).build())
                .hasMessage("uris: empty (expected: at least one uri(...))");
        assertThatThrownBy(() -> RouteRegistrar.builder().endpoint("h", 1).uri("a.com").build())
                .hasMessage("servers: empty (expected: servers(...) or connection(...))");
        assertThatThrownBy(() -> RouteRegistrar.builder().endpoint("h", 0))
                .hasMessage("port: 0 (expected: 1-65535)");
        assertThatThrownBy(() -> RouteRegistrar.builder().uri("/no-host"))
                .hasMessage("uri: '/no-host' (expected: host[/path])");
        assertThatThrownBy(() -> RouteRegistrar.builder().defaultInterval(Duration.ZERO))
                .hasMessage("defaultInterval: PT0S (expected: > 0)");
        assertThatThrownBy(() -> RouteRegistrar.builder().connectAttempts(0))
                .hasMessage("connectAttempts: 0 (expected: >= 1)");
    }

    @Test
    void shouldUseTheDefaultIntervalUntilARouterAsks() {
        RouteRegistrar registrar = RouteRegistrar.builder().servers("nats://h:4222").endpoint("h", 1).uri("a.com")
                .defaultInterval(Duration.ofSeconds(7)).build();

        assertThat(registrar.interval()).isEqualTo(Duration.ofSeconds(7));
        assertThat(registrar.registrationsSent()).isZero();
    }

    @Test
    void shouldDoNothingWhenRegisteringOrClosingBeforeStart() throws Exception {
        RouteRegistrar registrar = RouteRegistrar.builder().servers("nats://h:4222").endpoint("h", 1).uri("a.com")
                .build();

        registrar.registerNow();
        registrar.close();

        assertThat(registrar.registrationsSent()).isZero();
        assertThatThrownBy(registrar::start).isInstanceOf(IllegalStateException.class)
                .hasMessage("start: already closed");
    }
}
