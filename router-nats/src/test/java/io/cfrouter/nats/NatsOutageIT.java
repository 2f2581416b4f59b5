package io.cfrouter.nats;

import io.cfrouter.testsupport.Await;
import io.cfrouter.testsupport.NatsServerProcess;
import io.nats.client.Connection;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static io.cfrouter.nats.RouterUnderTest.register;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * NATS going away: servers are killed (SIGKILL) and restarted on the same port. Time is the registry's
 * fake ticker, pruning is driven by the test. Whether {@code router.start} went out after a reconnect is
 * read from the server's own protocol trace, since a subscriber of ours could come back after it.
 */
class NatsOutageIT {

    private static final Duration DEADLINE = Duration.ofSeconds(30);
    private static final Duration LONGER_THAN_STALE = RouterUnderTest.STALE_THRESHOLD.multipliedBy(5);

    private NatsServerProcess nats;
    private NatsServerProcess second;
    private Path trace;
    private Connection platform;
    private RouterUnderTest router;

    @AfterEach
    void stopAll() throws Exception {
        if (router != null) {
            router.close();
        }
        if (platform != null) {
            platform.close();
        }
        if (nats != null) {
            nats.close();
        }
        if (second != null) {
            second.close();
        }
        if (trace != null) {
            Files.deleteIfExists(trace);
        }
    }

    private void startTracedNats() throws IOException {
        trace = Files.createTempFile("nats-trace-", ".log");
        nats = NatsServerProcess.start("-V", "-l", trace.toString());
    }

    /** PUBs on {@code subject} by the router's connection, as the server saw them. */
    private long publishedByRouter(String subject) {
        try (var lines = Files.lines(trace)) {
            return lines.filter(l -> l.contains("cf-router " + RouterUnderTest.ROUTER_ID))
                    .filter(l -> l.contains("<<- [PUB " + subject + " "))
                    .count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void registerUntilApplied(String host, int port, String uri) throws Exception {
        Await.until(DEADLINE, uri + " registered", () -> {
            platform.publish("router.register", register(host, port, uri));
            return router.lookup(uri) != null;
        });
        // The loop may have published copies that are still queued; a later copy would restart the
        // endpoint's staleness clock after the test advanced time. The router handles messages in order
        // on one dispatcher, so the reply to a greet sent now comes after every copy has been applied.
        assertThat(platform.request("router.greet", new byte[0], DEADLINE)).isNotNull();
    }

    @Test
    void shouldKeepEveryRouteThroughAnOutageLongerThanTheStaleThreshold() throws Exception {
        startTracedNats();
        platform = RouterUnderTest.platform(nats.url());
        router = RouterUnderTest.on(nats.port()).start();
        registerUntilApplied("10.0.0.1", 8080, "before.example.com");
        Await.until(DEADLINE, "router.start at start-up in the trace", () -> publishedByRouter("router.start") == 1);

        nats.kill();
        Await.until(DEADLINE, "pruning suspended", () -> router.registry.isPruningSuspended());
        assertThat(router.adapter.stats().connected()).isFalse();
        router.advance(LONGER_THAN_STALE);
        assertThat(router.registry.pruneStale(router.ticker.read())).isZero();
        assertThat(router.lookup("before.example.com")).isNotNull();

        nats.restart();
        Await.until(DEADLINE, "the router to reconnect", () -> router.adapter.stats().connected());
        // At least once more: a reconnect that fails the adapter's check is forced again, and publishes it again.
        Await.until(DEADLINE, "router.start re-published", () -> publishedByRouter("router.start") >= 2);
        assertThat(router.adapter.stats().reconnects()).isEqualTo(1);
        assertThat(router.registry.isPruningSuspended()).isFalse();
        // Clocks were reset on reconnect: nothing is stale until a full threshold has passed again.
        assertThat(router.registry.pruneStale(router.ticker.read())).isZero();
        assertThat(router.lookup("before.example.com")).isNotNull();
        registerUntilApplied("10.0.0.2", 8080, "after.example.com");

        router.advance(RouterUnderTest.STALE_THRESHOLD.plusSeconds(1));
        assertThat(router.registry.pruneStale(router.ticker.read())).isEqualTo(2);
        assertThat(router.lookup("before.example.com")).isNull();
    }

    @Test
    void shouldPruneDuringAnOutageWhenSuspensionIsOff() throws Exception {
        nats = NatsServerProcess.start();
        platform = RouterUnderTest.platform(nats.url());
        router = new RouterUnderTest(RouterUnderTest.addresses(nats.port()), Duration.ofSeconds(20), false).start();
        registerUntilApplied("10.0.0.1", 8080, "before.example.com");

        nats.kill();
        Await.until(DEADLINE, "the router to notice", () -> !router.adapter.stats().connected());
        router.advance(LONGER_THAN_STALE);

        assertThat(router.registry.isPruningSuspended()).isFalse();
        assertThat(router.registry.pruneStale(router.ticker.read())).isEqualTo(1);
        assertThat(router.lookup("before.example.com")).isNull();
    }

    @Test
    void shouldFailOverToTheNextServerAndKeepApplyingRegistrations() throws Exception {
        nats = NatsServerProcess.start();
        second = NatsServerProcess.start();
        platform = RouterUnderTest.platform(nats.url());
        router = RouterUnderTest.on(nats.port(), second.port()).start();
        registerUntilApplied("10.0.0.1", 8080, "first.example.com");

        nats.kill();
        Await.until(DEADLINE, "the router to fail over", () -> router.adapter.stats().reconnects() == 1
                && router.adapter.stats().connected());
        platform.close();
        platform = RouterUnderTest.platform(second.url());
        registerUntilApplied("10.0.0.2", 8080, "second.example.com");

        assertThat(router.lookup("first.example.com")).isNotNull();
        assertThat(router.registry.isPruningSuspended()).isFalse();
        platform.publish("router.unregister", register("10.0.0.1", 8080, "first.example.com"));
        Await.until(DEADLINE, "unregister applied after fail-over", () -> router.lookup("first.example.com") == null);
    }
}
