package io.cfrouter.app;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.cfrouter.testsupport.Await;
import io.cfrouter.testsupport.FreePort;
import io.cfrouter.testsupport.HttpExchange;
import io.cfrouter.testsupport.NatsServerProcess;
import io.nats.client.Connection;
import io.nats.client.Nats;
import io.undertow.Undertow;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The jar starts in the order of §6, and says clearly why when it cannot. */
class StartupIT {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private NatsServerProcess nats;
    private Undertow backend;

    @AfterEach
    void stop() {
        if (backend != null) {
            backend.stop();
        }
        if (nats != null) {
            nats.close();
        }
    }

    private Path write(String name, String content) {
        try {
            return Files.writeString(dir.resolve(name), content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void shouldExitWith1AndSaySoWhenNoNatsServerAnswers() {
        int[] ports = FreePort.find(3);
        Path config = write("router.conf", """
                host = "127.0.0.1"
                port = %d
                status.port = %d
                nats = [{ host = "127.0.0.1", port = %d, user = nats, pass = s3cret }]
                """.formatted(ports[0], ports[1], ports[2]));

        try (RouterProcess router = RouterProcess.start("--config", config.toString())) {
            assertThat(router.awaitExit(TIMEOUT)).as(router.output()).isEqualTo(1);
            assertThat(router.output()).contains("cf-router could not start: nats: no NATS server answered at")
                    .doesNotContain("\tat ");
            assertThat(router.output().lines().filter(l -> l.contains("could not start")))
                    .as("the password stays out of the fatal line").noneMatch(l -> l.contains("s3cret"));
        }
    }

    @Test
    void shouldExitWith1NamingTheKeyWhenThePortIsInUse() throws IOException {
        nats = NatsServerProcess.start();
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Path config = write("router.conf",
                    RouterProcess.listeners(taken.getLocalPort(), FreePort.find(), nats.port())
                            + "start_response_delay_interval = 0\n");

            try (RouterProcess router = RouterProcess.start("--config", config.toString())) {
                assertThat(router.awaitExit(TIMEOUT)).as(router.output()).isEqualTo(1);
                assertThat(router.output())
                        .contains("cf-router could not start: port: cannot listen on 127.0.0.1:" + taken.getLocalPort())
                        .doesNotContain("\tat ");
            }
        }
    }

    @Test
    void shouldAnswer503DuringTheStartDelayAndListenOnlyAfterIt() {
        nats = NatsServerProcess.start();
        int[] ports = FreePort.find(2);
        int proxyPort = ports[0];
        int statusPort = ports[1];
        Path config = write("router.conf", RouterProcess.listeners(proxyPort, statusPort, nats.port())
                + "start_response_delay_interval = 3s\n");

        try (RouterProcess router = RouterProcess.start("--config", config.toString())) {
            HttpExchange.Response starting = Await.value(TIMEOUT, "the status server to answer",
                    () -> HttpExchange.get(statusPort, "localhost", "/health"), r -> true);
            assertThat(starting.status()).as(router.output()).isEqualTo(503);
            assertThatThrownBy(() -> HttpExchange.get(proxyPort, "app.example.com", "/"))
                    .as("the proxy does not listen during the start delay").isInstanceOf(UncheckedIOException.class);

            Await.value(TIMEOUT, "/health to answer 200", () -> HttpExchange.get(statusPort, "localhost", "/health"),
                    r -> r.status() == 200);
            assertThat(HttpExchange.get(proxyPort, "app.example.com", "/").status()).isEqualTo(404);
            router.awaitOutput("listening: proxy on 127.0.0.1:" + proxyPort, TIMEOUT);

            router.signal("TERM");
            assertThat(router.awaitExit(TIMEOUT)).isZero();
        }
    }

    @Test
    void shouldRouteWithAGorouterYamlConfigAndLogJsonLines() throws Exception {
        nats = NatsServerProcess.start();
        backend = Undertow.builder()
                .addHttpListener(0, "127.0.0.1")
                .setHandler(exchange -> exchange.getResponseSender().send("hello from " + exchange.getRequestPath()))
                .build();
        backend.start();
        int backendPort = ((InetSocketAddress) backend.getListenerInfo().get(0).getAddress()).getPort();
        int[] ports = FreePort.find(2);
        int proxyPort = ports[0];
        int statusPort = ports[1];
        Path accessLog = Files.createTempFile("cf-router-access-", ".log");
        Path config = write("gorouter.yml", """
                ---
                port: %d
                host: 127.0.0.1
                index: 0
                status:
                  port: %d
                  user: admin
                  pass: secret
                nats:
                  - host: 127.0.0.1
                    port: %d
                    user: ""
                    pass: ""
                logging:
                  level: info
                  format: json
                  syslog: vcap.gorouter
                access_log:
                  file: %s
                droplet_stale_threshold: 120
                start_response_delay_interval: 0
                endpoint_timeout: 10
                """.formatted(proxyPort, statusPort, nats.port(), accessLog));

        try (RouterProcess router = RouterProcess.start("--config", config.toString());
             Connection publisher = Nats.connect(nats.url())) {
            Await.value(TIMEOUT, "/health to answer 200", () -> HttpExchange.get(statusPort, "localhost", "/health"),
                    r -> r.status() == 200);
            byte[] register = """
                    {"host":"127.0.0.1","port":%d,"uris":["yaml.example.com"],"app":"app-1",
                     "private_instance_id":"instance-1"}""".formatted(backendPort).getBytes(StandardCharsets.UTF_8);
            HttpExchange.Response ok = Await.value(TIMEOUT, "the route to answer", () -> {
                publisher.publish("router.register", register);
                return HttpExchange.get(proxyPort, "yaml.example.com", "/hi");
            }, r -> r.status() == 200);
            assertThat(ok.bodyText()).isEqualTo("hello from /hi");

            router.signal("TERM");
            assertThat(router.awaitExit(TIMEOUT)).isZero();
            List<JsonObject> lines = router.output().lines().map(l -> JsonParser.parseString(l).getAsJsonObject())
                    .toList();
            assertThat(lines).allSatisfy(l ->
                    assertThat(l.keySet()).contains("timestamp", "level", "logger", "message"));
            assertThat(lines).anySatisfy(l -> {
                assertThat(l.get("message").getAsString()).startsWith("Endpoint registered: yaml.example.com");
                assertThat(l.get("route").getAsString()).isEqualTo("yaml.example.com");
                assertThat(l.get("endpoint").getAsString()).isEqualTo("127.0.0.1:" + backendPort);
            });
            assertThat(lines).anySatisfy(l -> {
                assertThat(l.get("level").getAsString()).isEqualTo("WARN");
                assertThat(l.get("message").getAsString()).contains("unknown configuration key logging.syslog");
            });
            assertThat(router.output()).as("java.util.logging is routed into Log4j")
                    .doesNotContain("java.util.logging was initialised");
            assertThat(lines).last().satisfies(l -> assertThat(l.get("message").getAsString()).endsWith(" stopped"));
            // The access log got the proxied request, written by its own thread and flushed on exit.
            assertThat(Files.readAllLines(accessLog)).anySatisfy(l -> assertThat(l)
                    .startsWith("yaml.example.com - [")
                    .contains("\"GET /hi HTTP/1.1\" 200 0 14 ")
                    .contains("\"127.0.0.1:" + backendPort + "\"")
                    .contains("app_id:\"app-1\"", "instance_id:\"instance-1\"", "x_cf_routererror:\"-\""));
        }
    }
}
