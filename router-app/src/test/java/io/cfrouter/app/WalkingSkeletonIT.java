package io.cfrouter.app;

import com.typesafe.config.ConfigFactory;
import io.cfrouter.testsupport.Await;
import io.cfrouter.testsupport.FreePort;
import io.cfrouter.testsupport.HttpExchange;
import io.cfrouter.testsupport.NatsServerProcess;
import io.nats.client.Connection;
import io.nats.client.Nats;
import io.undertow.Undertow;
import io.undertow.util.Headers;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;

/** One request the whole way: NATS → registry → proxy → backend, and back out through /routes. */
class WalkingSkeletonIT {

    private NatsServerProcess nats;
    private Undertow backend;
    private int backendPort;
    private Router router;
    private Connection publisher;

    @BeforeEach
    void start() throws Exception {
        nats = NatsServerProcess.start();
        backend = Undertow.builder()
                .addHttpListener(0, "127.0.0.1")
                .setHandler(exchange -> {
                    exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain");
                    exchange.getResponseSender().send("hello from backend " + exchange.getRequestURI());
                })
                .build();
        backend.start();
        backendPort = ((InetSocketAddress) backend.getListenerInfo().get(0).getAddress()).getPort();

        int[] ports = FreePort.find(2);
        RouterSettings settings = ConfigLoader.bind(ConfigFactory.parseString("""
                host = "127.0.0.1"
                port = %d
                status { port = %d, user = admin, pass = secret }
                nats = [{ host = "127.0.0.1", port = %d }]
                start_response_delay_interval = 0s
                """.formatted(ports[0], ports[1], nats.port()))
                .withFallback(ConfigFactory.defaultReference()).resolve());
        router = new Router(settings);
        router.start();
        publisher = Nats.connect(nats.url());
    }

    @AfterEach
    void stop() throws Exception {
        if (publisher != null) {
            publisher.close();
        }
        if (router != null) {
            router.close();
        }
        if (backend != null) {
            backend.stop();
        }
        if (nats != null) {
            nats.close();
        }
    }

    @Test
    void shouldRouteARegisteredHostToItsBackendUntilItIsUnregistered() {
        String message = """
                {"host":"127.0.0.1","port":%d,"uris":["skeleton.example.com"],"app":"app-1",
                 "private_instance_id":"instance-1","tags":{"component":"test"}}""".formatted(backendPort);

        assertThat(HttpExchange.get(router.proxyPort(), "skeleton.example.com", "/hi").status()).isEqualTo(404);

        publisher.publish("router.register", message.getBytes(StandardCharsets.UTF_8));
        HttpExchange.Response ok = Await.value(Duration.ofSeconds(10), "the route to answer",
                () -> HttpExchange.get(router.proxyPort(), "skeleton.example.com", "/hi"), r -> r.status() == 200);
        assertThat(ok.bodyText()).isEqualTo("hello from backend /hi");

        String auth = "Authorization: Basic " + Base64.getEncoder().encodeToString("admin:secret".getBytes());
        HttpExchange.Response routes = HttpExchange.get(router.statusPort(), "localhost", "/routes", auth);
        assertThat(routes.status()).isEqualTo(200);
        assertThat(routes.bodyText()).contains("\"skeleton.example.com\"")
                .contains("\"address\":\"127.0.0.1:" + backendPort + "\"")
                .contains("\"private_instance_id\":\"instance-1\"");
        assertThat(HttpExchange.get(router.statusPort(), "localhost", "/routes").status()).isEqualTo(401);

        publisher.publish("router.unregister", message.getBytes(StandardCharsets.UTF_8));
        HttpExchange.Response gone = Await.value(Duration.ofSeconds(10), "the route to be gone",
                () -> HttpExchange.get(router.proxyPort(), "skeleton.example.com", "/hi"), r -> r.status() == 404);
        assertThat(gone.header("X-Cf-RouterError")).contains("unknown_route");
        assertThat(gone.bodyText())
                .isEqualTo("404 Not Found: Requested route ('skeleton.example.com') does not exist.\n");
    }
}
