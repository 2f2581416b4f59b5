package io.cfrouter.proxy;

import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Writes the request head the forwarder sends to a backend (behaviour reference §3.1), straight from the
 * exchange into one byte array: the request line with the URI as the client sent it and {@code HTTP/1.1},
 * the client's headers minus the hop-by-hop ones and the ones the router sets itself, then
 * {@code X-Forwarded-For}, {@code X-Forwarded-Proto} and the {@code X-CF-*} headers. Names and values are
 * copied in bulk, not byte by byte. {@code Expect} is not forwarded: the router answers
 * {@code 100 Continue} itself when it starts reading the body, as nginx does.
 *
 * <p>Not thread-safe and reused: one per I/O thread; the bytes are valid until the next {@link #write}.
 */
final class RequestHead {

    private static final byte[] HTTP_11 = " HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final HttpString PROXY_CONNECTION = new HttpString("Proxy-Connection");
    /** Request headers never copied from the client: hop-by-hop, or set by the router below. */
    private static final HttpString[] NOT_COPIED = {
        Headers.CONNECTION, Headers.KEEP_ALIVE, Headers.TE, Headers.TRAILER, Headers.UPGRADE, PROXY_CONNECTION,
        Headers.X_FORWARDED_FOR, Headers.X_FORWARDED_PROTO, Headers.EXPECT,
        BackendConnection.X_CF_INSTANCE_ID, BackendConnection.X_CF_APPLICATION_ID,
        BackendConnection.X_CF_INSTANCE_INDEX,
    };

    private byte[] b = new byte[4096];
    private int n;

    /** The head's bytes, {@code [0, length())}. */
    byte[] bytes() {
        return b;
    }

    int length() {
        return n;
    }

    /** Writes the head of {@code r}'s current attempt. */
    void write(ProxiedRequest r) {
        var e = r.served;
        write(r.exchange.getRequestMethod(), RouterHandler.uriOf(r.exchange), r.exchange.getRequestHeaders(),
                r.xForwardedFor, r.xForwardedProto, e.instanceId().isEmpty() ? r.servedAddress : e.instanceId(),
                e.appId(), e.instanceIndex());
    }

    /**
     * Writes a head: {@code method uri HTTP/1.1}, the copied headers, then the router's own (the {@code X-CF-*}
     * ones only when not empty).
     */
    void write(HttpString method, String uri, HeaderMap headers, String forwardedFor, String forwardedProto,
               String instanceId, String appId, String instanceIndex) {
        n = 0;
        put(method);
        put((byte) ' ');
        put(uri);
        put(HTTP_11);
        boolean connectionNamesOthers = namesOthers(headers.get(Headers.CONNECTION));
        for (long f = headers.fastIterateNonEmpty(); f != -1L; f = headers.fiNextNonEmpty(f)) {
            HeaderValues values = headers.fiCurrent(f);
            HttpString name = values.getHeaderName();
            if (!copied(name, headers, connectionNamesOthers)) {
                continue;
            }
            for (int i = 0; i < values.size(); i++) {
                field(name, values.get(i));
            }
        }
        field(Headers.X_FORWARDED_FOR, forwardedFor);
        field(Headers.X_FORWARDED_PROTO, forwardedProto);
        field(BackendConnection.X_CF_INSTANCE_ID, instanceId);
        if (!appId.isEmpty()) {
            field(BackendConnection.X_CF_APPLICATION_ID, appId);
        }
        if (!instanceIndex.isEmpty()) {
            field(BackendConnection.X_CF_INSTANCE_INDEX, instanceIndex);
        }
        put((byte) '\r');
        put((byte) '\n');
    }

    private static boolean copied(HttpString name, HeaderMap headers, boolean connectionNamesOthers) {
        int hash = name.hashCode(); // HttpString.equals compares bytes without looking at the (cached) hash
        for (HttpString not : NOT_COPIED) {
            if (not.hashCode() == hash && not.equals(name)) {
                return false;
            }
        }
        if (HopByHop.isProxyPrefixed(name)) {
            return false;
        }
        // Headers the client's Connection header names are hop-by-hop too (Transfer-Encoding frames the body).
        return !connectionNamesOthers || name.equals(Headers.TRANSFER_ENCODING)
                || !HopByHop.connectionNames(headers, name.toString());
    }

    /** Whether a {@code Connection} header lists anything but {@code close} and {@code keep-alive}. */
    private static boolean namesOthers(HeaderValues connection) {
        return HopByHop.anyToken(connection, (v, from, to) -> !HopByHop.isToken(v, from, to, "close")
                && !HopByHop.isToken(v, from, to, "keep-alive"));
    }

    private void field(HttpString name, String value) {
        put(name);
        put((byte) ':');
        put((byte) ' ');
        put(value);
        put((byte) '\r');
        put((byte) '\n');
    }

    private void put(byte c) {
        ensure(1);
        b[n++] = c;
    }

    private void put(byte[] bytes) {
        ensure(bytes.length);
        System.arraycopy(bytes, 0, b, n, bytes.length);
        n += bytes.length;
    }

    private void put(HttpString s) {
        ensure(s.length());
        s.copyTo(b, n);
        n += s.length();
    }

    /**
     * Header values and the URI are ISO-8859-1 strings (Undertow made them from the request's bytes that way):
     * each char is one byte, copied in bulk.
     */
    @SuppressWarnings("deprecation") // String.getBytes(int, int, byte[], int): exactly the low byte of each char
    private void put(String s) {
        int length = s.length();
        ensure(length);
        s.getBytes(0, length, b, n);
        n += length;
    }

    private void ensure(int more) {
        if (n + more > b.length) {
            b = Arrays.copyOf(b, Math.max(b.length * 2, n + more));
        }
    }

    /** Gives back a buffer grown for an unusually large head, so that one such request does not pin it. */
    void trim() {
        if (b.length > 64 * 1024) {
            b = new byte[4096];
        }
    }
}
