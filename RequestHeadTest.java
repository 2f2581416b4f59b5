package io.cfrouter.proxy;

import io.undertow.util.HeaderMap;
import io.undertow.util.HttpString;
import io.undertow.util.Methods;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class RequestHeadTest {

    private final RequestHead head = new RequestHead();

    private static HeaderMap headers(String... pairs) {
        HeaderMap map = new HeaderMap();
        for (int i = 0; i < pairs.length; i += 2) {
            map.add(new HttpString(pairs[i]), pairs[i + 1]);
        }
        return map;
    }

    private String written(HeaderMap headers, String appId, String index) {
        head.write(Methods.POST, "/a%2Fb;x=1?q=%20&r", headers, "1.2.3.4, 10.0.0.1", "https", "instance-1", appId,
                index);
        return new String(head.bytes(), 0, head.length(), StandardCharsets.ISO_8859_1);
    }

    @Test
    void shouldWriteTheRequestLineHeadersAndTheRoutersOwn() {
        String text = written(headers("Host", "app.example.com", "Accept", "a/b", "Cookie", "x=1", "Cookie", "y=2",
                "X-Latin", "caf\u00e9", "Content-Length", "5"), "app-guid", "3");
        assertThat(text).startsWith("POST /a%2Fb;x=1?q=%20&r HTTP/1.1\r\n").endsWith("\r\n\r\n")
                .contains("\r\nHost: app.example.com\r\n", "\r\nAccept: a/b\r\n", "\r\nCookie: x=1\r\nCookie: y=2\r\n",
                        "\r\nContent-Length: 5\r\n", "\r\nX-Forwarded-For: 1.2.3.4, 10.0.0.1\r\n",
                        "\r\nX-Forwarded-Proto: https\r\n", "\r\nX-CF-InstanceID: instance-1\r\n",
                        "\r\nX-CF-ApplicationID: app-guid\r\n", "\r\nX-CF-InstanceIndex: 3\r\n");
        assertThat(head.bytes()[text.indexOf("caf") + 3]).as("Latin-1 byte for byte").isEqualTo((byte) 0xe9);
    }

    @Test
    void shouldLeaveOutHopByHopHeadersAndTheClientsValuesOfTheRoutersOwn() {
        String text = written(headers("Host", "h", "Connection", "keep-alive, X-Private, Transfer-Encoding",
                "X-Private", "1", "Keep-Alive", "timeout=1", "TE", "trailers", "Trailer", "X-T", "Upgrade", "h2c",
                "Proxy-Authorization", "Basic eA==", "Proxy-Foo", "1", "Expect", "100-continue",
                "X-Forwarded-For", "forged", "X-Forwarded-Proto", "forged", "X-CF-InstanceID", "forged",
                "X-CF-ApplicationID", "forged", "X-CF-InstanceIndex", "forged", "Transfer-Encoding", "chunked",
                "X-Kept", "yes"), "", "");
        assertThat(text).contains("\r\nX-Kept: yes\r\n", "\r\nTransfer-Encoding: chunked\r\n")
                .doesNotContainIgnoringCase("X-Private").doesNotContainIgnoringCase("Keep-Alive")
                .doesNotContainIgnoringCase("\r\nTE:").doesNotContainIgnoringCase("Trailer")
                .doesNotContainIgnoringCase("Upgrade").doesNotContainIgnoringCase("Proxy-")
                .doesNotContainIgnoringCase("Expect").doesNotContain("forged")
                .doesNotContainIgnoringCase("Connection")
                .doesNotContain("X-CF-ApplicationID").doesNotContain("X-CF-InstanceIndex");
    }

    @Test
    void shouldGrowForALargeHead() {
        String big = "v".repeat(100_000);
        String text = written(headers("Host", "h", "X-Big", big), "", "");
        assertThat(text).contains("\r\nX-Big: " + big + "\r\n").endsWith("\r\n\r\n");
        head.trim();
        assertThat(written(headers("Host", "h"), "", "")).startsWith("POST ").contains("\r\nHost: h\r\n");
    }
}
