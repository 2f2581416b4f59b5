package io.cfrouter.app.reliability;

import io.cfrouter.testsupport.HttpExchange;
import io.cfrouter.testsupport.NatsServerProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Headers the router owns ({@code X-CF-InstanceID}, {@code X-CF-ApplicationID}, {@code X-Vcap-Request-Id})
 * never reach the backend as a client wrote them, whatever case or repetition the client uses.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HeaderInjectionIT {

    private static final String[] FORGED = {
        "X-CF-InstanceID: forged-instance",
        "x-cf-instanceid: forged-instance-2",
        "X-CF-ApplicationID: forged-app",
        "X-CF-InstanceIndex: forged-index",
        "X-Vcap-Request-Id: forged-request-id",
        "X-VCAP-REQUEST-ID: forged-request-id-2",
    };

    private NatsServerProcess nats;
    private Backend echo;
    private RouterProcess router;

    @BeforeAll
    void start() {
        nats = NatsServerProcess.start();
        // Answers with every request header it received, one "name: value" line each.
        echo = Backend.start(exchange -> exchange.getResponseSender().send(
                exchange.getRequestHeaders().getHeaderNames().stream()
                        .flatMap(name -> exchange.getRequestHeaders().get(name).stream()
                                .map(value -> name + ": " + value))
                        .collect(Collectors.joining("\n"))));
        router = RouterProcess.start(nats.port(), "");
        router.route(nats.url(), "app.example.com", echo.port(), "instance-1");
        router.route(nats.url(), "bare.example.com", echo.port(), "");
    }

    @AfterAll
    void stop() {
        RouterProcess.closeAll(router, echo, nats);
    }

    private static Map<String, List<String>> headersSeenByBackend(HttpExchange.Response response) {
        Map<String, List<String>> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        for (String line : response.bodyText().split("\n")) {
            int colon = line.indexOf(':');
            headers.computeIfAbsent(line.substring(0, colon), k -> new java.util.ArrayList<>())
                    .add(line.substring(colon + 1).trim());
        }
        return headers;
    }

    @Test
    void shouldReplaceForgedIdentityHeadersWithTheEndpointsOwn() {
        HttpExchange.Response response = router.get("app.example.com", "/", FORGED);
        assertThat(response.status()).isEqualTo(200);
        Map<String, List<String>> seen = headersSeenByBackend(response);

        assertThat(seen.get("X-CF-InstanceID")).containsExactly("instance-1");
        assertThat(seen.get("X-CF-ApplicationID")).containsExactly("app-instance-1");
        assertThat(seen.get("X-Vcap-Request-Id")).hasSize(1).first().asString()
                .doesNotStartWith("forged").matches("[0-9a-f-]{36}");
        assertThat(response.bodyText()).doesNotContain("forged");
        assertThat(response.headers("X-Vcap-Request-Id")).containsExactlyElementsOf(seen.get("X-Vcap-Request-Id"));
    }

    @Test
    void shouldNotPassForgedIdentityHeadersToAnEndpointWithoutAppOrInstance() {
        HttpExchange.Response response = router.get("bare.example.com", "/", FORGED);
        assertThat(response.status()).isEqualTo(200);
        Map<String, List<String>> seen = headersSeenByBackend(response);

        assertThat(seen.get("X-CF-InstanceID")).containsExactly("127.0.0.1:" + echo.port());
        assertThat(seen.getOrDefault("X-CF-ApplicationID", List.of())).allMatch(String::isEmpty);
        assertThat(seen.getOrDefault("X-CF-InstanceIndex", List.of())).allMatch(String::isEmpty);
        assertThat(response.bodyText()).doesNotContain("forged");
    }

}
