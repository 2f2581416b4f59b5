package io.cfrouter.nats;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.cfrouter.registry.Route;
import io.cfrouter.testsupport.Await;
import io.cfrouter.testsupport.FreePort;
import io.cfrouter.testsupport.NatsServerProcess;
import io.nats.client.Connection;
import io.nats.client.Message;
import io.nats.client.Subscription;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static io.cfrouter.nats.RouterUnderTest.register;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class NatsAdapterIT {

    private static final Duration DEADLINE = Duration.ofSeconds(20);

    private NatsServerProcess nats;
    private Connection platform;
    private RouterUnderTest router;

    @BeforeEach
    void startNats() throws Exception {
        nats = NatsServerProcess.start();
        platform = RouterUnderTest.platform(nats.url());
    }

    @AfterEach
    void stopAll() throws Exception {
        if (router != null) {
            router.close();
        }
        if (platform != null) {
            platform.close();
        }
        nats.close();
    }

    private static JsonObject json(Message m) {
        return JsonParser.parseString(new String(m.getData(), StandardCharsets.UTF_8)).getAsJsonObject();
    }

    @Test
    void shouldPublishRouterStartAndAnnounceAtStartUpWithTheConfiguredValues() throws Exception {
        Subscription starts = platform.subscribe("router.start");
        Subscription announces = platform.subscribe("vcap.component.announce");
        platform.flush(Duration.ofSeconds(5));

        router = RouterUnderTest.on(nats.port()).start();

        Message start = starts.nextMessage(DEADLINE);
        assertThat(start).isNotNull();
        String raw = new String(start.getData(), StandardCharsets.UTF_8);
        assertThat(raw).isEqualTo("{\"id\":\"" + RouterUnderTest.ROUTER_ID + "\",\"hosts\":[\"10.1.2.3\"],"
                + "\"minimumRegisterIntervalInSeconds\":20,\"pruneThresholdInSeconds\":120,"
                + "\"prunteThresholdInSeconds\":120}");
        Message announce = announces.nextMessage(DEADLINE);
        assertThat(announce).isNotNull();
        assertThat(json(announce).get("type").getAsString()).isEqualTo("Router");
        assertThat(json(announce).get("uuid").getAsString()).isEqualTo(RouterUnderTest.ROUTER_ID);
    }

    @Test
    void shouldAnswerGreetWithTheStartPayload() throws Exception {
        router = RouterUnderTest.on(nats.port()).start();

        Message answer = platform.request("router.greet", new byte[0], DEADLINE);

        assertThat(answer).isNotNull();
        JsonObject o = json(answer);
        assertThat(o.get("id").getAsString()).isEqualTo(RouterUnderTest.ROUTER_ID);
        assertThat(o.get("hosts").getAsJsonArray().get(0).getAsString()).isEqualTo("10.1.2.3");
        assertThat(o.get("minimumRegisterIntervalInSeconds").getAsJsonPrimitive().getAsString()).isEqualTo("20");
        assertThat(o.get("pruneThresholdInSeconds").getAsJsonPrimitive().getAsString()).isEqualTo("120");
        assertThat(o.get("prunteThresholdInSeconds").getAsJsonPrimitive().getAsString()).isEqualTo("120");
    }

    @Test
    void shouldIgnoreAGreetWithoutAReplySubjectAndCarryOn() throws Exception {
        router = RouterUnderTest.on(nats.port()).start();

        platform.publish("router.greet", new byte[0]);
        Message answer = platform.request("router.greet", new byte[0], DEADLINE);

        assertThat(answer).isNotNull();
        assertThat(router.adapter.stats().invalidMessages()).isZero();
    }

    @Test
    void shouldAnswerDiscoverWithTheComponentInfoAndItsCredentials() throws Exception {
        router = RouterUnderTest.on(nats.port()).start();

        Message answer = platform.request("vcap.component.discover", new byte[0], DEADLINE);

        assertThat(answer).isNotNull();
        JsonObject o = json(answer);
        assertThat(o.get("type").getAsString()).isEqualTo("Router");
        assertThat(o.get("host").getAsString()).isEqualTo("10.1.2.3:8082");
        assertThat(o.get("credentials").getAsJsonArray()).hasSize(2);
        assertThat(o.get("credentials").getAsJsonArray().get(0).getAsString()).isEqualTo("status-user");
        assertThat(o.get("credentials").getAsJsonArray().get(1).getAsString()).isEqualTo("status-secret");
        assertThat(o.keySet()).contains("index", "uuid", "start", "uptime");
    }

    @Test
    void shouldApplyRegisterAndUnregister() throws Exception {
        router = RouterUnderTest.on(nats.port()).start();

        platform.publish("router.register", register("10.0.0.1", 8080, "app.example.com", "app.example.com/api"));
        Route route = Await.value(DEADLINE, "route registered", () -> router.lookup("app.example.com"), r -> r != null);
        assertThat(route.endpoints()).extracting(e -> e.endpoint().address()).containsExactly("10.0.0.1:8080");
        assertThat(router.registry.lookup("app.example.com", "/api/x").key().key()).isEqualTo("app.example.com/api");

        platform.publish("router.unregister", register("10.0.0.1", 8080, "app.example.com"));
        Await.until(DEADLINE, "route unregistered", () -> router.lookup("app.example.com") == null);
        assertThat(router.registry.lookup("app.example.com", "/api").key().key()).isEqualTo("app.example.com/api");
        assertThat(router.adapter.stats().messagesReceived()).isEqualTo(2);
    }

    @Test
    void shouldCountAndSkipInvalidMessagesAndApplyTheNextOnes() throws Exception {
        router = RouterUnderTest.on(nats.port()).start();

        platform.publish("router.register", "{\"host\":\"h\",\"port\":70000,\"uris\":[\"a.com\"]}".getBytes(StandardCharsets.UTF_8));
        platform.publish("router.register", new byte[] {(byte) 0xff, '{'});
        platform.publish("router.unregister", "[]".getBytes(StandardCharsets.UTF_8));
        platform.publish("router.register", register("10.0.0.2", 9000, "next.example.com"));

        Await.until(DEADLINE, "the valid message applied", () -> router.lookup("next.example.com") != null);
        NatsStats stats = router.adapter.stats();
        assertThat(stats.invalidMessages()).isEqualTo(3);
        assertThat(stats.messagesReceived()).isEqualTo(4);
        assertThat(stats.droppedMessages()).isZero();
        assertThat(stats.connected()).isTrue();
    }

    @Test
    void shouldApplyABurstOf200000RegistrationsInFull() throws Exception {
        router = RouterUnderTest.on(nats.port()).start();
        int count = 200_000;

        for (int i = 0; i < count; i++) {
            platform.publish("router.register", register("10.0." + (i >> 8 & 0xff) + "." + (i & 0xff), 8080 + (i >> 16),
                    "burst-" + i + ".example.com"));
        }
        platform.flush(Duration.ofSeconds(30));

        Await.until(Duration.ofSeconds(120), "200 000 routes in the table", () -> router.registry.routeCount() == count);
        assertThat(router.registry.endpointCount()).isEqualTo(count);
        NatsStats stats = router.adapter.stats();
        assertThat(stats.messagesReceived()).isEqualTo(count);
        assertThat(stats.droppedMessages()).isZero();
        assertThat(stats.invalidMessages()).isZero();
    }

    @Test
    void shouldFailStartUpWithAClearMessageWhenNoServerAnswers() {
        int nobody = FreePort.find();
        RouterUnderTest unreachable = RouterUnderTest.on(nobody);

        assertThatThrownBy(unreachable::start)
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("no NATS server answered at [127.0.0.1:" + nobody + "] after 2 attempts");
    }
}
