package io.cfrouter.app.reliability;

import io.cfrouter.testsupport.HttpExchange;
import io.cfrouter.testsupport.NatsServerProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Request smuggling and malformed HTTP: each ambiguous or broken request gets 400 (431 for an oversized
 * head) and its connection closed, the backend never sees the request hidden behind it, and the router
 * goes on serving others.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MalformedRequestIT {

    private static final String HOST = "smuggle.example.com";
    /**
     * Hidden after each malformed request: a desynchronised parser would forward it. {@code CASE} becomes a
     * number of its own in each case, so a request forwarded late is charged to the case that sent it.
     */
    private static final String SMUGGLED = "GET /smuggled-CASE HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n";
    private static final AtomicInteger CASES = new AtomicInteger();

    private NatsServerProcess nats;
    private RawBackend backend;
    private RouterProcess router;

    @BeforeAll
    void start() {
        nats = NatsServerProcess.start();
        backend = RawBackend.start(RawBackend.KEEP_ALIVE_OK);
        router = RouterProcess.start(nats.port(), "max_request_header_bytes = 32768\n");
        router.route(nats.url(), HOST, backend.port(), "");
    }

    @AfterAll
    void stop() {
        RouterProcess.closeAll(router, backend, nats);
    }

    static Stream<Arguments> malformedRequests() {
        String head = "POST / HTTP/1.1\r\nHost: " + HOST + "\r\n";
        return Stream.of(
                Arguments.of("Content-Length with Transfer-Encoding",
                        head + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED, 400),
                Arguments.of("Transfer-Encoding with Content-Length",
                        head + "Transfer-Encoding: chunked\r\nContent-Length: " + (5 + SMUGGLED.length())
                                + "\r\n\r\n0\r\n\r\n" + SMUGGLED, 400),
                Arguments.of("duplicate Content-Length with different values",
                        head + "Content-Length: 0\r\nContent-Length: " + SMUGGLED.length() + "\r\n\r\n" + SMUGGLED, 400),
                Arguments.of("duplicate Content-Length with the same value",
                        head + "Content-Length: 0\r\nContent-Length: 0\r\n\r\n" + SMUGGLED, 400),
                Arguments.of("Content-Length list", head + "Content-Length: 0, 0\r\n\r\n" + SMUGGLED, 400),
                Arguments.of("non-numeric Content-Length", head + "Content-Length: abc\r\n\r\n" + SMUGGLED, 400),
                Arguments.of("negative Content-Length", head + "Content-Length: -1\r\n\r\n" + SMUGGLED, 400),
                Arguments.of("signed Content-Length", head + "Content-Length: +0\r\n\r\n" + SMUGGLED, 400),
                Arguments.of("chunked not last",
                        head + "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n" + SMUGGLED, 400),
                Arguments.of("unknown transfer coding",
                        head + "Transfer-Encoding: gzip\r\n\r\n" + SMUGGLED, 400),
                Arguments.of("obs-fold continuing Transfer-Encoding",
                        head + "Transfer-Encoding: identity\r\n chunked\r\n\r\n0\r\n\r\n" + SMUGGLED, 400),
                // The folded request itself carries the marker too: the backend must see neither.
                Arguments.of("obs-fold header line (space)", "GET /smuggled-CASE HTTP/1.1\r\nHost: " + HOST
                        + "\r\nX-Folded: a\r\n b\r\n\r\n" + SMUGGLED, 400),
                Arguments.of("obs-fold header line (tab)", "GET /smuggled-CASE HTTP/1.1\r\nHost: " + HOST
                        + "\r\nX-Folded: a\r\n\tb\r\nX-Other: c\r\n\r\n" + SMUGGLED, 400),
                Arguments.of("bare LF line endings",
                        "GET / HTTP/1.1\nHost: " + HOST + "\nContent-Length: 0\n\n" + SMUGGLED, 400),
                Arguments.of("space before the colon",
                        head + "Transfer-Encoding : chunked\r\nContent-Length: 0\r\n\r\n" + SMUGGLED, 400),
                Arguments.of("non-hex chunk size",
                        head + "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n" + SMUGGLED, 400),
                Arguments.of("overflowing chunk size",
                        head + "Transfer-Encoding: chunked\r\n\r\n10000000000000000\r\nhello\r\n0\r\n\r\n" + SMUGGLED, 400),
                Arguments.of("negative chunk size",
                        head + "Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n" + SMUGGLED, 400),
                Arguments.of("64 KiB request line",
                        "GET /" + "a".repeat(64 * 1024) + " HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n" + SMUGGLED, 431));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedRequests")
    void shouldRejectAndCloseWithoutDesynchronisingTheBackend(String what, String request, int expected) {
        String marker = "/smuggled-" + CASES.incrementAndGet() + " ";
        try (RawClient client = new RawClient(router.proxyPort())) {
            HttpExchange.Response response = client.write(request.replace("/smuggled-CASE ", marker)).readOrNull();
            assertThat(response).as(what + ": the router closed the connection without an answer").isNotNull();

            if (expected == 431) {
                assertThat(response.status()).as(what + ": " + response).isIn(400, 414, 431);
            } else {
                assertThat(response.status()).as(what + ": " + response).isEqualTo(400);
            }
            assertThat(client.closedWithin(Duration.ofSeconds(5))).as(what + ": connection closed").isTrue();
        }
        // Let a desynchronised request reach the backend before looking.
        assertThat(router.get(HOST, "/after").status()).as("the router still serves").isEqualTo(200);
        assertThat(backend.received()).as(what + ": what the backend received").doesNotContain(marker);
    }
}
