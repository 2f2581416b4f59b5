package io.cfrouter.nats;

import io.cfrouter.testsupport.Await;
import io.cfrouter.testsupport.NatsServerProcess;
import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The registrar against a real router (adapter + registry) on a real nats-server. */
class RouteRegistrarIT {

    private static final Duration DEADLINE = Duration.ofSeconds(20);
    private static final Duration NEVER = Duration.ofHours(1);

    private NatsServerProcess nats;
    private Connection platform;
    private RouterUnderTest router;
    private RouteRegistrar registrar;
    private final AtomicInteger registers = new AtomicInteger();
    private final AtomicInteger unregisters = new AtomicInteger();

    @BeforeEach
    void startNats() throws Exception {
        nats = NatsServerProcess.start();
        platform = RouterUnderTest.platform(nats.url());
        Dispatcher d = platform.createDispatcher(m -> {
            if (m.getSubject().equals("router.register")) {
                registers.incrementAndGet();
            } else {
                unregisters.incrementAndGet();
            }
        });
        d.subscribe("router.register");
        d.subscribe("router.unregister");
        platform.flush(DEADLINE);
    }

    @AfterEach
    void stopAll() throws Exception {
        if (registrar != null) {
            registrar.close();
        }
        if (router != null) {
            router.close();
        }
        platform.close();
        nats.close();
    }

    private RouteRegistrar.Builder registrar() {
        return RouteRegistrar.builder()
                .servers(nats.url())
                .endpoint("10.0.0.7", 4567)
                .uri("app.example.com")
                .uri("app.example.com/api")
                .appId("app-guid")
                .instanceId("instance-1")
                .instanceIndex("0")
                .tag("component", "demo")
                .defaultInterval(NEVER);
    }

    @Test
    void shouldRegisterAtStartUpAndUnregisterOnClose() throws Exception {
        router = new RouterUnderTest(RouterUnderTest.addresses(nats.port()), NEVER, true).start();
        registrar = registrar().build();

        registrar.start();

        var route = Await.value(DEADLINE, "route registered", () -> router.lookup("app.example.com"), r -> r != null);
        var endpoint = route.endpoints().get(0).endpoint();
        assertThat(endpoint.address()).isEqualTo("10.0.0.7:4567");
        assertThat(endpoint.appId()).isEqualTo("app-guid");
        assertThat(endpoint.instanceId()).isEqualTo("instance-1");
        assertThat(endpoint.instanceIndex()).isEqualTo("0");
        assertThat(endpoint.component()).isEqualTo("demo");
        // One message, two routes, applied one after the other: the path route may land just after the host's.
        var api = Await.value(DEADLINE, "path route registered",
                () -> router.registry.lookup("app.example.com", "/api/v1"),
                r -> r != null && r.key().key().equals("app.example.com/api"));
        assertThat(api.endpoints().get(0).endpoint().address()).isEqualTo("10.0.0.7:4567");

        registrar.close();

        Await.until(DEADLINE, "routes unregistered", () -> router.registry.routeCount() == 0);
        assertThat(unregisters.get()).isEqualTo(1);
    }

    @Test
    void shouldLearnTheIntervalFromTheGreetAnswerAndRegisterAtIt() throws Exception {
        router = new RouterUnderTest(RouterUnderTest.addresses(nats.port()), Duration.ofSeconds(1), true).start();
        registrar = registrar().build();

        registrar.start();

        Await.until(DEADLINE, "interval from router.greet", () -> registrar.interval().equals(Duration.ofSeconds(1)));
        Await.until(DEADLINE, "three registrations a second apart", () -> registers.get() >= 3);
        assertThat(router.lookup("app.example.com")).isNotNull();
    }

    @Test
    void shouldReRegisterAtOnceWhenARouterStarts() throws Exception {
        router = new RouterUnderTest(RouterUnderTest.addresses(nats.port()), NEVER, true).start();
        registrar = registrar().build();
        registrar.start();
        Await.until(DEADLINE, "first registration", () -> registers.get() == 1);

        platform.publish("router.start", ("{\"id\":\"1-other\",\"hosts\":[\"10.9.9.9\"],"
                + "\"minimumRegisterIntervalInSeconds\":3600,\"pruneThresholdInSeconds\":7200}")
                .getBytes(StandardCharsets.UTF_8));

        Await.until(DEADLINE, "a registration for the new router", () -> registers.get() == 2);
        // The registrar counts a registration after publishing it, so NATS can deliver it first.
        Await.until(DEADLINE, "the registrar to count it", () -> registrar.registrationsSent() == 2);
        assertThat(registers.get()).isEqualTo(2);
    }

    @Test
    void shouldUseTheSmallestIntervalAnyRouterAsksFor() throws Exception {
        router = new RouterUnderTest(RouterUnderTest.addresses(nats.port()), NEVER, true).start();
        registrar = registrar().build();
        registrar.start();
        Await.until(DEADLINE, "interval from router.greet", () -> registrar.interval().equals(NEVER));

        platform.publish("router.start", "{\"id\":\"1-fast\",\"minimumRegisterIntervalInSeconds\":1}"
                .getBytes(StandardCharsets.UTF_8));
        platform.publish("router.start", "{\"id\":\"2-bad\",\"minimumRegisterIntervalInSeconds\":-4}"
                .getBytes(StandardCharsets.UTF_8));
        platform.publish("router.start", "not json".getBytes(StandardCharsets.UTF_8));

        Await.until(DEADLINE, "the fast router's interval", () -> registrar.interval().equals(Duration.ofSeconds(1)));
        Await.until(DEADLINE, "registrations every second", () -> registers.get() >= 4);
    }

    @Test
    void shouldWorkOnAGivenConnectionAndLeaveItOpen() throws Exception {
        router = new RouterUnderTest(RouterUnderTest.addresses(nats.port()), NEVER, true).start();
        registrar = RouteRegistrar.builder().connection(platform).endpoint("10.0.0.8", 80).uri("shared.example.com")
                .build();

        registrar.start();
        Await.until(DEADLINE, "route registered", () -> router.lookup("shared.example.com") != null);
        registrar.close();

        Await.until(DEADLINE, "route unregistered", () -> router.lookup("shared.example.com") == null);
        assertThat(platform.getStatus()).isEqualTo(Connection.Status.CONNECTED);
    }

    @Test
    void shouldReRegisterAfterItsConnectionComesBack() throws Exception {
        router = new RouterUnderTest(RouterUnderTest.addresses(nats.port()), NEVER, true).start();
        registrar = registrar().build();
        registrar.start();
        Await.until(DEADLINE, "first registration", () -> registers.get() == 1);

        nats.kill();
        nats.restart();

        // The router re-publishes router.start and the registrar re-registers on its own reconnect: either
        // way the route is registered again without waiting for the (hour-long) interval.
        Await.until(DEADLINE, "registered again after the outage", () -> registrar.registrationsSent() >= 2);
        Await.until(DEADLINE, "route still there", () -> router.lookup("app.example.com") != null);
    }

    @Test
    void shouldFailToStartWithAClearMessageWhenNoServerAnswers() {
        registrar = RouteRegistrar.builder().servers("nats://user:secret@127.0.0.1:" + io.cfrouter.testsupport.FreePort.find())
                .endpoint("10.0.0.8", 80).uri("x.example.com").connectAttempts(1).build();

        assertThatThrownBy(registrar::start)
                .hasMessageStartingWith("no NATS server answered at [nats://127.0.0.1:")
                .hasMessageNotContaining("secret");
    }
}
