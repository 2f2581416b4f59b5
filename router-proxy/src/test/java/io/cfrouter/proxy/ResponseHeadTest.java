package io.cfrouter.proxy;

import io.undertow.util.HeaderMap;
import io.undertow.util.HttpString;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class ResponseHeadTest {

    private static final String HEAD = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n"
            + "Set-Cookie: a=1\r\nset-cookie: b=2\r\nX-Empty:\r\nX-Spaced: \t v a l \t\r\n\r\n";

    private final ResponseHead head = new ResponseHead();

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** Parses a whole head (the end found in one scan); null when the parser refused it. */
    private HeaderMap parsed(String text) {
        byte[] b = bytes(text);
        int end = ResponseHead.end(b, 0, b.length);
        assertThat(end).as("end of " + text).isEqualTo(b.length);
        if (!head.parse(b, end)) {
            return null;
        }
        HeaderMap map = new HeaderMap();
        head.addTo(b, map);
        return map;
    }

    @Test
    void shouldParseTheStatusAndKeepEndToEndFieldsAsTheyCame() {
        HeaderMap map = parsed(HEAD);
        assertThat(head.status).isEqualTo(200);
        assertThat(head.contentLength).isEqualTo(5);
        assertThat(head.chunked).isFalse();
        assertThat(head.close).isFalse();
        assertThat(map.getFirst("Content-Type")).isEqualTo("text/plain");
        assertThat(map.get("Set-Cookie")).containsExactly("a=1", "b=2");
        assertThat(map.getFirst("X-Empty")).isEmpty();
        assertThat(map.getFirst("X-Spaced")).isEqualTo("v a l");
        assertThat(map.get("Content-Type").getHeaderName().toString()).isEqualTo("Content-Type");
    }

    @Test
    void shouldSayWhetherTheKeptFieldsHoldASetCookieOrARequestId() {
        parsed(HEAD);
        assertThat(head.setCookie).isTrue();
        assertThat(head.requestId).isFalse();
        parsed("HTTP/1.1 200 OK\r\nx-VCAP-request-ID: abc\r\nSet-Cookies: not=this\r\nContent-Length: 0\r\n\r\n");
        assertThat(head.setCookie).as("Set-Cookies is another field").isFalse();
        assertThat(head.requestId).isTrue();
        HeaderMap map = parsed("HTTP/1.1 200 OK\r\nX-Vcap-Request-Id: abc\r\nConnection: X-VCAP-Request-Id\r\n"
                + "Content-Length: 0\r\n\r\n");
        assertThat(map).isNotNull();
        assertThat(map.contains("X-Vcap-Request-Id")).as("named by Connection: hop-by-hop").isFalse();
        assertThat(head.requestId).as("so the router still adds its own").isFalse();
        parsed("HTTP/1.1 204 No Content\r\n\r\n");
        assertThat(head.setCookie).as("reset by the next parse").isFalse();
        assertThat(head.requestId).isFalse();
    }

    @Test
    void shouldFindTheEndOfAHeadSplitAnywhereAcrossReads() {
        byte[] whole = bytes(HEAD + "hello");
        int expected = bytes(HEAD).length;
        for (int split = 1; split < whole.length; split++) {
            // what the forwarder does: look in what has come so far, then again from two bytes before its end
            int end = ResponseHead.end(whole, 0, split);
            if (end < 0) {
                end = ResponseHead.end(whole, Math.max(0, split - 2), whole.length);
            }
            assertThat(end).as("split at " + split).isEqualTo(expected);
        }
        int scanned = 0;
        int end = -1;
        for (int length = 1; length <= whole.length && end < 0; length++) {
            end = ResponseHead.end(whole, scanned, length);
            scanned = Math.max(0, length - 2);
        }
        assertThat(end).as("a byte at a time").isEqualTo(expected);
    }

    @Test
    void shouldAcceptBareLfLineEnds() {
        HeaderMap map = parsed("HTTP/1.1 204 No Content\nX-A: 1\n\n");
        assertThat(head.status).isEqualTo(204);
        assertThat(map.getFirst("X-A")).isEqualTo("1");
    }

    @Test
    void shouldDropHopByHopFieldsAndTheOnesConnectionNames() {
        HeaderMap map = parsed("HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Private\r\nX-Private: 1\r\n"
                + "Keep-Alive: timeout=5\r\nProxy-Authenticate: Basic\r\nProxy-Foo: 1\r\nTE: trailers\r\n"
                + "Trailer: X-T\r\nUpgrade: h2c\r\nX-Kept: yes\r\nContent-Length: 0\r\n\r\n");
        assertThat(map.getHeaderNames()).extracting(HttpString::toString)
                .containsExactlyInAnyOrder("X-Kept", "Content-Length");
        assertThat(head.close).isFalse();
    }

    @Test
    void shouldReadTheFraming() {
        HeaderMap chunked = parsed("HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\nContent-Length: 10\r\n\r\n");
        assertThat(head.chunked).isTrue();
        assertThat(head.contentLength).as("chunked wins").isEqualTo(-1);
        assertThat(chunked.contains("Content-Length")).isFalse();
        assertThat(chunked.contains("Transfer-Encoding")).isFalse();

        parsed("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
        assertThat(head.close).isTrue();
        assertThat(head.contentLength).isEqualTo(-1);
        parsed("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n");
        assertThat(head.close).as("HTTP/1.0").isTrue();
        parsed("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\n");
        assertThat(head.close).as("HTTP/1.0 keep-alive").isFalse();

        HeaderMap twice = parsed("HTTP/1.1 200 OK\r\nContent-Length: 7\r\nContent-Length: 7\r\n\r\n");
        assertThat(twice.get("Content-Length")).containsExactly("7");
    }

    @Test
    void shouldReadOnlyTheStatusOfAnInterimResponse() {
        HeaderMap map = parsed("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n");
        assertThat(head.status).isEqualTo(103);
        assertThat(map.size()).isZero();
    }

    @Test
    void shouldRefuseHeadsItCouldMisread() {
        String[] refused = {
            "HTTP/1.1 200 OK\r\nX-A: 1\r\n continued\r\n\r\n",          // obs-fold
            "HTTP/1.1 200 OK\r\nX-A: 1\r\n\tcontinued\r\n\r\n",         // obs-fold with a tab
            "HTTP/1.1 200 OK\r\nX-A : 1\r\n\r\n",                       // space before the colon
            "HTTP/1.1 200 OK\r\n: 1\r\n\r\n",                           // empty name
            "HTTP/1.1 200 OK\r\nX(A): 1\r\n\r\n",                       // not a token
            "HTTP/1.1 200 OK\r\nX-A: 1\r2\r\n\r\n",                     // bare CR
            "HTTP/1.1 200 OK\r\nX-A: a\u0000b\r\n\r\n",                 // NUL
            "HTTP/1.1 200 OK\r\nX-A: a\u0001b\r\n\r\n",                 // control character
            "HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 0, 0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            "HTTP/2.0 200 OK\r\n\r\n",
            "HTTP/1.1 20 OK\r\n\r\n",
            "HTTP/1.1 2000 OK\r\n\r\n",
            "HTTP/1.1 099 Low\r\n\r\n",
            "http/1.1 200 OK\r\n\r\n",
            "ICY 200 OK\r\n\r\n",
            "HTTP/1.1 200 O\u0000K\r\n\r\n",
            "garbage\r\n\r\n",
        };
        for (String text : refused) {
            assertThat(parsed(text)).as(text).isNull();
            assertThat(head.problem).as(text).isNotBlank();
        }
    }

    @Test
    void shouldShareOneNamePerSpelling() {
        byte[] b = bytes("X-Custom-Name x-custom-name");
        HttpString first = ResponseHead.name(b, 0, 13);
        assertThat(ResponseHead.name(b.clone(), 0, 13)).isSameAs(first);
        HttpString lower = ResponseHead.name(b, 14, 13);
        assertThat(lower.toString()).isEqualTo("x-custom-name");
        assertThat(first.toString()).isEqualTo("X-Custom-Name");
        byte[] known = bytes("Content-Type");
        assertThat(ResponseHead.name(known, 0, known.length)).as("Undertow's own instance")
                .isSameAs(io.undertow.util.Headers.CONTENT_TYPE);
    }
}
