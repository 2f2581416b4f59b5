package io.cfrouter.proxy;

import io.cfrouter.core.RequestRecord;
import io.cfrouter.testsupport.HttpExchange;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** §3.1 and §3.2: what reaches the backend, byte for byte, and the answers the router makes itself. */
class RequestForwardingIT {

    private ProxyFixture router;
    private RawBackend backend;

    @BeforeEach
    void start() throws Exception {
        router = new ProxyFixture(ProxySettings.defaults().withTraceKey("trace-me"), 0);
        backend = new RawBackend();
        router.closeLater(backend);
        router.register("app.example.com", backend.port(), "app-guid", "instance-1", "3");
        router.register("other.example.com/api", backend.port());
    }

    @AfterEach
    void stop() throws Exception {
        router.close();
    }

    private String sentHead() throws InterruptedException {
        return backend.nextHead();
    }

    @Test
    void shouldForwardTheRequestUriByteForByte() throws Exception {
        for (String uri : new String[] {"/abc%2b%2f%25%20%22%3F%5Edef", "/a;jsessionid=1;x=2/b;c", "//x//y/",
                "/p?q=%2F%20&r=a+b&&s", "/%7Euser/./../z"}) {
            HttpExchange.Response response = HttpExchange.get(router.port, "app.example.com", uri);
            assertThat(response.status()).as(uri).isEqualTo(200);
            assertThat(sentHead()).as(uri).startsWith("GET " + uri + " HTTP/1.1\r\n");
        }
        // Keep-alive pooling: without it every request opens a connection. With it, one per I/O thread,
        // plus the odd extra when a request arrives before the previous connection is back in its pool.
        int requests = 5;
        for (; requests < 20; requests++) {
            assertThat(HttpExchange.get(router.port, "app.example.com", "/again").status()).isEqualTo(200);
            sentHead();
        }
        assertThat(backend.connections()).as("backend connections for %d requests", requests)
                .isLessThanOrEqualTo(requests / 4);
    }

    @Test
    void shouldSetTheForwardingHeadersAndReplaceClientValuesOfTheRoutersOwn() throws Exception {
        HttpExchange.Response response = HttpExchange.get(router.port, "app.example.com:8081", "/h",
                "X-Forwarded-For: 1.2.3.4", "X-Vcap-Request-Id: client-id", "X-CF-InstanceID: forged",
                "X-CF-ApplicationID: forged", "X-CF-InstanceIndex: 99");
        String head = sentHead();
        assertThat(head).contains("\r\nHost: app.example.com:8081\r\n")
                .contains("\r\nX-Forwarded-For: 1.2.3.4, 127.0.0.1\r\n")
                .contains("\r\nX-Forwarded-Proto: http\r\n")
                .contains("\r\nX-CF-InstanceID: instance-1\r\n")
                .contains("\r\nX-CF-ApplicationID: app-guid\r\n")
                .contains("\r\nX-CF-InstanceIndex: 3\r\n")
                .doesNotContain("forged").doesNotContain(": 99\r\n").doesNotContain("client-id")
                .doesNotContainIgnoringCase("X-Forwarded-Host").doesNotContainIgnoringCase("X-Forwarded-Server")
                .doesNotContainIgnoringCase("X-Forwarded-Port");
        String requestId = header(head, "X-Vcap-Request-Id");
        assertThat(requestId).matches("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
        assertThat(response.header("X-Vcap-Request-Id")).contains(requestId);
        long start = Long.parseLong(header(head, "X-Request-Start"));
        assertThat(start).isBetween(System.currentTimeMillis() - 60_000, System.currentTimeMillis());

        RequestRecord record = router.record("/h");
        assertThat(record.status()).isEqualTo(200);
        assertThat(record.requestId()).isEqualTo(requestId);
        assertThat(record.xForwardedFor()).isEqualTo("1.2.3.4, 127.0.0.1");
        assertThat(record.xForwardedProto()).isEqualTo("http");
        assertThat(record.host()).isEqualTo("app.example.com:8081");
        assertThat(record.method()).isEqualTo("GET");
        assertThat(record.protocol()).isEqualTo("HTTP/1.1");
        assertThat(record.backendAddress()).isEqualTo("127.0.0.1:" + backend.port());
        assertThat(record.appId()).isEqualTo("app-guid");
        assertThat(record.appIndex()).isEqualTo("3");
        assertThat(record.instanceId()).isEqualTo("instance-1");
        assertThat(record.component()).isEqualTo("c1");
        assertThat(record.clientAddress()).startsWith("127.0.0.1:");
        assertThat(record.responseBytes()).isEqualTo(response.body().length);
        assertThat(record.routerError()).isEmpty();
        assertThat(record.durationNanos()).isPositive();
    }

    @Test
    void shouldKeepTheClientsProtoAndRequestStartAndUseHostPortWithoutAnInstanceId() throws Exception {
        HttpExchange.get(router.port, "other.example.com", "/api/x", "X-Forwarded-Proto: https",
                "X-Request-Start: 12345", "X-CF-InstanceID: forged", "X-CF-ApplicationID: forged");
        String head = sentHead();
        assertThat(head).contains("\r\nX-Forwarded-Proto: https\r\n").contains("\r\nX-Request-Start: 12345\r\n")
                .contains("\r\nX-CF-InstanceID: 127.0.0.1:" + backend.port() + "\r\n")
                .doesNotContain("forged").doesNotContainIgnoringCase("X-CF-ApplicationID");
    }

    @Test
    void shouldDropHopByHopHeadersBothWays() throws Exception {
        HttpExchange.Response response = HttpExchange.send(router.port, ("GET /hop HTTP/1.1\r\n"
                + "Host: app.example.com\r\nConnection: keep-alive, X-Private\r\nX-Private: 1\r\n"
                + "Keep-Alive: timeout=1\r\nProxy-Authorization: Basic eA==\r\nProxy-Foo: 1\r\nTE: trailers\r\n"
                + "Trailer: X-T\r\nUpgrade: h2c\r\nX-Kept: yes\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        String head = sentHead();
        assertThat(head).contains("\r\nX-Kept: yes\r\n").doesNotContainIgnoringCase("X-Private")
                .doesNotContainIgnoringCase("Keep-Alive").doesNotContainIgnoringCase("Proxy-")
                .doesNotContainIgnoringCase("\r\nTE:").doesNotContainIgnoringCase("Trailer")
                .doesNotContainIgnoringCase("Upgrade");
        assertThat(response.header("Keep-Alive")).isEmpty();
        assertThat(response.header("X-Hop")).contains("secret");
    }

    @Test
    void shouldAnswerAnHttp10ClientInHttp10() {
        HttpExchange.Response response = HttpExchange.send(router.port,
                "GET /old HTTP/1.0\r\nHost: app.example.com\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        assertThat(response.statusLine()).startsWith("HTTP/1.0 200");
        assertThat(response.header("Transfer-Encoding")).isEmpty();
        assertThat(response.bodyText()).startsWith("GET /old HTTP/1.1\r\n");
    }

    @Test
    void shouldAnswerUnknownRoutesWith404() {
        HttpExchange.Response response = HttpExchange.get(router.port, "nope.example.com", "/x");
        assertThat(response.status()).isEqualTo(404);
        assertThat(response.bodyText())
                .isEqualTo("404 Not Found: Requested route ('nope.example.com') does not exist.\n");
        assertThat(response.header("X-Cf-RouterError")).contains("unknown_route");
        assertThat(response.header("Content-Type")).contains("text/plain; charset=utf-8");
        assertThat(response.header("X-Content-Type-Options")).contains("nosniff");
        assertThat(response.header("Cache-Control")).contains("no-cache, no-store");
        assertThat(HttpExchange.get(router.port, "other.example.com", "/apix").status()).isEqualTo(404);
        assertThat(router.record("/x").routerError()).isEqualTo("unknown_route");
        assertThat(router.record("/x").status()).isEqualTo(404);
    }

    @Test
    void shouldAnswerAnEmptyHostWith400() {
        HttpExchange.Response response = HttpExchange.get(router.port, "", "/empty");
        assertThat(response.status()).isEqualTo(400);
        assertThat(response.bodyText()).isEqualTo("400 Bad Request: Request had empty Host header\n");
        assertThat(response.header("X-Cf-RouterError")).contains("empty_host");
        assertThat(response.header("X-Content-Type-Options")).contains("nosniff");
    }

    @Test
    void shouldAnswerAnEmptyHostOnAKeepAliveConnectionWithTheRouterError() {
        HttpExchange.Response response = HttpExchange.send(router.port,
                "GET / HTTP/1.1\r\nHost: \r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        assertEmptyHost(response);
    }

    @Test
    void shouldAnswerAnHttp10RequestWithoutHostWithTheEmptyHostError() {
        assertEmptyHost(HttpExchange.send(router.port,
                "GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1)));
    }

    @Test
    void shouldAnswerAnHttp11RequestWithoutHostWithTheEmptyHostError() {
        // HTTP/1.1 requires Host (RFC 9112 §3.2); Undertow would answer a bare 400 ahead of every handler, so
        // the listener adds an empty Host line to the head (RequestHeadsIT has the other cases).
        HttpExchange.Response response = HttpExchange.send(router.port,
                "GET / HTTP/1.1\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        assertEmptyHost(response);
        assertThat(backend.heads).isEmpty();
    }

    private static void assertEmptyHost(HttpExchange.Response response) {
        assertThat(response.status()).as(response.toString()).isEqualTo(400);
        assertThat(response.header("X-Cf-RouterError")).contains("empty_host");
        assertThat(response.bodyText()).isEqualTo("400 Bad Request: Request had empty Host header\n");
    }

    @Test
    void shouldAnswerTheHealthCheckWhateverTheHost() {
        for (String host : new String[] {"", "nope.example.com", "app.example.com"}) {
            HttpExchange.Response response = HttpExchange.get(router.port, host, "/", "User-Agent: HTTP-Monitor/1.1");
            assertThat(response.status()).isEqualTo(200);
            assertThat(response.bodyText()).isEqualTo("ok\n");
            assertThat(response.header("Cache-Control")).contains("private, max-age=0");
            assertThat(response.header("Expires")).contains("0");
        }
        assertThat(backend.heads).isEmpty();
    }

    @Test
    void shouldAddTraceHeadersOnlyForTheTraceKey() throws Exception {
        HttpExchange.Response traced = HttpExchange.get(router.port, "app.example.com", "/t", "X-Vcap-Trace: trace-me");
        String address = "127.0.0.1:" + backend.port();
        assertThat(traced.header("X-Vcap-Router")).contains("127.0.0.1");
        assertThat(traced.header("X-Vcap-Backend")).contains(address);
        assertThat(traced.header("X-Cf-RouteEndpoint")).contains(address);
        HttpExchange.Response plain = HttpExchange.get(router.port, "app.example.com", "/t", "X-Vcap-Trace: wrong");
        assertThat(plain.header("X-Vcap-Router")).isEmpty();
        assertThat(plain.header("X-Vcap-Backend")).isEmpty();
    }

    @Test
    void shouldAnswerOversizedHeadersWith431() throws Exception {
        try (ProxyFixture small1k = new ProxyFixture(ProxySettings.defaults().withMaxRequestHeaderBytes(1024), 0)) {
            small1k.register("app.example.com", backend.port());
            HttpExchange.Response small = HttpExchange.get(small1k.port, "app.example.com", "/small",
                    "X-Pad: " + "a".repeat(500));
            assertThat(small.status()).isEqualTo(200);
            HttpExchange.Response big = HttpExchange.get(small1k.port, "app.example.com", "/big",
                    "X-Pad: " + "a".repeat(2000));
            assertHeadersTooLarge(big);
        }
    }

    private static void assertHeadersTooLarge(HttpExchange.Response big) {
        assertThat(big.status()).isEqualTo(431);
        assertThat(big.header("X-Cf-RouterError")).contains("max-request-size-exceeded");
        assertThat(big.bodyText()).startsWith("431 Request Header Fields Too Large: ");
    }

    @Test
    void shouldKeepTheBackendsOwnRequestIdAndAddOnlyWhenItHasNone() throws Exception {
        HttpExchange.Response own = HttpExchange.get(router.port, "app.example.com", "/own-id",
                "X-Test-Response: X-Vcap-Request-Id: backend-id");
        assertThat(own.headers("X-Vcap-Request-Id")).containsExactly("backend-id");
        String sent = header(sentHead(), "X-Vcap-Request-Id");
        HttpExchange.Response named = HttpExchange.get(router.port, "app.example.com", "/named-id",
                "X-Test-Response: X-Vcap-Request-Id: backend-id", "X-Test-Response: Connection: X-Vcap-Request-Id");
        String routers = header(sentHead(), "X-Vcap-Request-Id");
        assertThat(named.headers("X-Vcap-Request-Id")).as("the backend's was hop-by-hop: the router's instead")
                .containsExactly(routers);
        assertThat(routers).isNotEqualTo(sent).isNotEqualTo("backend-id");
    }

    @Test
    void shouldTakeTheClientAddressOfEachExchangeOnAKeepAliveConnection() throws Exception {
        // An embedder's handler in front of the proxy may set a source address per exchange (say, from a
        // PROXY protocol header); the address the router formats once per connection must follow it.
        router.close();
        router = new ProxyFixture(ProxySettings.defaults(), 0, next -> exchange -> {
            String peer = exchange.getRequestHeaders().getFirst("X-Test-Peer");
            if (peer != null) {
                exchange.setSourceAddress(new InetSocketAddress(InetAddress.getByName(peer), 4567));
            }
            next.handleRequest(exchange);
        });
        backend = new RawBackend();
        router.closeLater(backend);
        router.register("app.example.com", backend.port());
        String[] peers = {null, "10.1.2.3", null, "10.1.2.4"};
        try (Socket socket = new Socket("127.0.0.1", router.port)) {
            String local = "127.0.0.1:" + socket.getLocalPort();
            for (int i = 0; i < peers.length; i++) {
                String peer = peers[i];
                socket.getOutputStream().write(("GET /peer-" + i + " HTTP/1.1\r\nHost: app.example.com\r\n"
                        + (peer == null ? "" : "X-Test-Peer: " + peer + "\r\n") + "\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                assertThat(HttpExchange.read(socket.getInputStream()).status()).isEqualTo(200);
                assertThat(header(sentHead(), "X-Forwarded-For")).as("request " + i)
                        .isEqualTo(peer == null ? "127.0.0.1" : peer);
                RequestRecord record = router.record("/peer-" + i);
                assertThat(record.clientAddress()).as("request " + i)
                        .isEqualTo(peer == null ? local : peer + ":4567");
            }
        }
    }

    private static String header(String head, String name) {
        for (String line : head.split("\r\n")) {
            if (line.regionMatches(true, 0, name + ":", 0, name.length() + 1)) {
                return line.substring(name.length() + 1).trim();
            }
        }
        throw new AssertionError(name + " not in " + head);
    }
}
