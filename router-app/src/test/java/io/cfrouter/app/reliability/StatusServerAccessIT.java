package io.cfrouter.app.reliability;

import io.cfrouter.testsupport.HttpExchange;
import io.cfrouter.testsupport.NatsServerProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Base64;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The status pages open only to the right credentials, and only on the status port. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StatusServerAccessIT {

    private NatsServerProcess nats;
    private RouterProcess router;

    @BeforeAll
    void start() {
        nats = NatsServerProcess.start();
        router = RouterProcess.start(nats.port(), "");
    }

    @AfterAll
    void stop() {
        RouterProcess.closeAll(router, nats);
    }

    private static String basic(String credentials) {
        return "Authorization: Basic " + Base64.getEncoder().encodeToString(credentials.getBytes());
    }

    @ParameterizedTest
    @ValueSource(strings = {"/varz", "/routes"})
    void shouldRefuseEveryWrongCredential(String path) {
        List<String[]> wrong = List.of(
                new String[0],
                new String[] {basic("admin:wrong")},
                new String[] {basic("wrong:secret")},
                new String[] {basic("admin:secre")},
                new String[] {basic("admin:secrets")},
                new String[] {basic("admin")},
                new String[] {basic(":")},
                new String[] {basic("Admin:secret")},
                new String[] {"Authorization: Basic !!!not-base64!!!"},
                new String[] {"Authorization: Bearer secret"},
                new String[] {"Authorization: basic"},
                new String[] {"Authorization: Basic " + Base64.getEncoder().encodeToString("admin:secret".getBytes())
                        .replace("=", "") + "x"});
        for (String[] auth : wrong) {
            HttpExchange.Response response = HttpExchange.get(router.statusPort(), "localhost", path, auth);
            assertThat(response.status()).as(String.join(",", auth)).isEqualTo(401);
            assertThat(response.header("WWW-Authenticate")).get().asString().startsWith("Basic realm=");
            assertThat(response.bodyText()).isEqualTo("401 Unauthorized\n");
        }
        assertThat(router.status(path).status()).isEqualTo(200);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/varz", "/routes", "/health", "/healthz"})
    void shouldNeverServeStatusPagesOnTheProxyPort(String path) {
        for (String host : List.of("localhost", "127.0.0.1", "127.0.0.1:" + router.statusPort(),
                "127.0.0.1:" + router.proxyPort())) {
            HttpExchange.Response response = router.get(host, path, RouterProcess.AUTH);
            assertThat(response.status()).as(host + path).isEqualTo(404);
            assertThat(response.header("X-Cf-RouterError")).contains("unknown_route");
            assertThat(response.bodyText()).doesNotContain("\"uuid\"").doesNotContain("credentials");
        }
    }

    @Test
    void shouldKeepServingAfterAFloodOfBadCredentials() {
        for (int i = 0; i < 500; i++) {
            assertThat(HttpExchange.get(router.statusPort(), "localhost", "/varz", basic("admin:guess" + i))
                    .status()).isEqualTo(401);
        }
        assertThat(router.status("/varz").status()).isEqualTo(200);
        assertThat(HttpExchange.get(router.statusPort(), "localhost", "/health").status()).isEqualTo(200);
    }
}
