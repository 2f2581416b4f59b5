package io.cfrouter.proxy;

import io.undertow.util.HeaderMap;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class HopByHopTest {

    private static HeaderMap headers(String... pairs) {
        HeaderMap map = new HeaderMap();
        for (int i = 0; i < pairs.length; i += 2) {
            map.add(new HttpString(pairs[i]), pairs[i + 1]);
        }
        return map;
    }

    @Test
    void shouldSeeAnUpgradeTokenAnywhereInAnyConnectionHeader() {
        assertThat(HopByHop.isUpgrade(headers("Connection", "keep-alive, UPGRADE", "Upgrade", "websocket"))).isTrue();
        assertThat(HopByHop.isUpgrade(headers("Connection", "keep-alive", "Connection", "upgrade",
                "Upgrade", "websocket"))).isTrue();
        assertThat(HopByHop.isUpgrade(headers("Connection", "upgraded", "Upgrade", "websocket"))).isFalse();
        assertThat(HopByHop.isUpgrade(headers("Connection", " ,, \tUpgrade\t ,", "Upgrade", "websocket")))
                .as("empty tokens and whitespace around one").isTrue();
        assertThat(HopByHop.isUpgrade(headers("Connection", "upgrad", "Upgrade", "websocket"))).isFalse();
        assertThat(HopByHop.isUpgrade(headers("Connection", "upgrade"))).isFalse();
    }

    @Test
    void shouldRemoveHopByHopHeadersAndThoseConnectionNames() {
        HeaderMap h = headers("Connection", "close, X-Secret", "X-Secret", "1", "Keep-Alive", "5", "TE", "trailers",
                "Trailer", "X-T", "Proxy-Authorization", "x", "Proxy-Anything", "y", "Upgrade", "h2c",
                "Transfer-Encoding", "chunked", "X-Kept", "1");
        HopByHop.strip(h, h, false, false);
        assertThat(h.getHeaderNames()).extracting(HttpString::toString).containsExactly("X-Kept");
    }

    @Test
    void shouldKeepTransferEncodingForFramingAndUpgradeForUpgrades() {
        HeaderMap h = headers("Connection", "keep-alive, Upgrade", "Upgrade", "websocket",
                "Transfer-Encoding", "chunked");
        HopByHop.strip(h, h, true, true);
        assertThat(h.getFirst(Headers.CONNECTION)).isEqualTo("Upgrade");
        assertThat(h.getFirst(Headers.UPGRADE)).isEqualTo("websocket");
        assertThat(h.getFirst(Headers.TRANSFER_ENCODING)).isEqualTo("chunked");
    }
}
