package io.cfrouter.proxy;

import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1): {@code Connection} and the headers it names, {@code Keep-Alive},
 * {@code Proxy-*}, {@code TE}, {@code Trailer}, {@code Transfer-Encoding} and {@code Upgrade} belong to one
 * connection and are not forwarded.
 */
final class HopByHop {

    private static final HttpString PROXY_CONNECTION = new HttpString("Proxy-Connection");

    private HopByHop() {
    }

    /**
     * Whether a request asks for a protocol upgrade: an {@code Upgrade} header and the {@code upgrade} token in
     * any {@code Connection} header, in any position and case.
     */
    static boolean isUpgrade(HeaderMap headers) {
        return headers.contains(Headers.UPGRADE) && connectionNames(headers, Headers.UPGRADE_STRING);
    }

    /** Whether any {@code Connection} header holds {@code token} (case-insensitive). */
    static boolean connectionNames(HeaderMap headers, String token) {
        return anyToken(headers.get(Headers.CONNECTION), (v, from, to) -> isToken(v, from, to, token));
    }

    /** A test of one token of a comma-separated header value: {@code v[from, to)}, trimmed, never empty. */
    interface TokenTest {
        boolean test(String v, int from, int to);
    }

    /**
     * Whether any token of {@code values}, each a comma-separated list ({@code Connection}), passes
     * {@code test}; empty tokens are skipped. Allocates nothing.
     */
    static boolean anyToken(HeaderValues values, TokenTest test) {
        if (values == null) {
            return false;
        }
        for (int i = 0; i < values.size(); i++) {
            String v = values.get(i);
            int from = 0;
            while (from <= v.length()) {
                int comma = v.indexOf(',', from);
                int to = comma < 0 ? v.length() : comma;
                int s = from;
                int e = to;
                while (s < e && v.charAt(s) <= ' ') {
                    s++;
                }
                while (e > s && v.charAt(e - 1) <= ' ') {
                    e--;
                }
                if (e > s && test.test(v, s, e)) {
                    return true;
                }
                from = to + 1;
            }
        }
        return false;
    }

    /** Whether {@code v[from, to)} is {@code token}, ignoring case. */
    static boolean isToken(String v, int from, int to, String token) {
        return to - from == token.length() && v.regionMatches(true, from, token, 0, token.length());
    }

    /**
     * Removes the hop-by-hop headers from {@code target}, reading the {@code Connection} header of
     * {@code source} (the message as it arrived; it may be {@code target} itself).
     *
     * @param keepTransferEncoding keep {@code Transfer-Encoding} (the outgoing request is framed from it)
     * @param upgrade keep {@code Upgrade} and send {@code Connection: Upgrade}
     */
    static void strip(HeaderMap source, HeaderMap target, boolean keepTransferEncoding, boolean upgrade) {
        HeaderValues connection = source.get(Headers.CONNECTION);
        if (connection != null) {
            for (int i = 0; i < connection.size(); i++) {
                for (String name : connection.get(i).split(",")) {
                    String n = name.trim();
                    if (!n.isEmpty() && !(upgrade && n.equalsIgnoreCase(Headers.UPGRADE_STRING))
                            && !(keepTransferEncoding && n.equalsIgnoreCase("transfer-encoding"))) {
                        target.remove(n);
                    }
                }
            }
        }
        target.remove(Headers.CONNECTION);
        target.remove(Headers.KEEP_ALIVE);
        target.remove(Headers.TE);
        target.remove(Headers.TRAILER);
        target.remove(PROXY_CONNECTION);
        target.remove(Headers.PROXY_AUTHORIZATION);
        target.remove(Headers.PROXY_AUTHENTICATE);
        if (!keepTransferEncoding) {
            target.remove(Headers.TRANSFER_ENCODING);
        }
        if (hasProxyPrefixed(target)) {
            for (HttpString name : target.getHeaderNames().toArray(new HttpString[0])) {
                if (isProxyPrefixed(name)) {
                    target.remove(name);
                }
            }
        }
        if (upgrade) {
            target.put(Headers.CONNECTION, Headers.UPGRADE_STRING);
        } else {
            target.remove(Headers.UPGRADE);
        }
    }

    private static boolean hasProxyPrefixed(HeaderMap headers) {
        for (long f = headers.fastIterateNonEmpty(); f != -1L; f = headers.fiNextNonEmpty(f)) {
            if (isProxyPrefixed(headers.fiCurrent(f).getHeaderName())) {
                return true;
            }
        }
        return false;
    }

    /** Whether {@code name} starts with {@code Proxy-} (any case). */
    static boolean isProxyPrefixed(HttpString name) {
        return name.length() > 6 && (name.byteAt(0) | 0x20) == 'p' && (name.byteAt(1) | 0x20) == 'r'
                && (name.byteAt(2) | 0x20) == 'o' && (name.byteAt(3) | 0x20) == 'x'
                && (name.byteAt(4) | 0x20) == 'y' && name.byteAt(5) == '-';
    }
}
