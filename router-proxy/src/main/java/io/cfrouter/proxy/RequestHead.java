package io.cfrouter.proxy;

import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;

import java.nio.charset.StandardCharsets;

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
final class RequestHead extends HeadBuilder {

    private static final byte[] HTTP_11 = " HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final HttpString PROXY_CONNECTION = new HttpString("Proxy-Connection");
    /** Request headers never copied from the client: hop-by-hop, or set by the router below. */
    private static final HttpString[] NOT_COPIED = {
        Headers.CONNECTION, Headers.KEEP_ALIVE, Headers.TE, Headers.TRAILER, Headers.UPGRADE, PROXY_CONNECTION,
        Headers.X_FORWARDED_FOR, Headers.X_FORWARDED_PROTO, Headers.EXPECT,
        BackendConnection.X_CF_INSTANCE_ID, BackendConnection.X_CF_APPLICATION_ID,
        BackendConnection.X_CF_INSTANCE_INDEX,
    };

    /** Writes the head of {@code r}'s current attempt. */
    void write(ProxiedRequest r) {
        var e = r.served;
        write(r.exchange.getRequestMethod(), RouterHandler.uriOf(r.exchange), r.exchange.getRequestHeaders(),
                r.xForwardedFor, r.xForwardedProto, instanceId(r), e.appId(), e.instanceIndex());
    }

    /** The {@code X-CF-*} fields of {@code r}'s current endpoint, and the blank line that ends the head. */
    void endpointFields(ProxiedRequest r) {
        endpointFields(instanceId(r), r.served.appId(), r.served.instanceIndex());
    }

    /** {@code X-CF-InstanceID}: the endpoint's instance id, or its {@code host:port} when it has none. */
    private static String instanceId(ProxiedRequest r) {
        return r.served.instanceId().isEmpty() ? r.servedAddress : r.served.instanceId();
    }

    /**
     * Writes a head: {@code method uri HTTP/1.1}, the copied headers, then the router's own (the {@code X-CF-*}
     * ones only when not empty).
     */
    void write(HttpString method, String uri, HeaderMap headers, String forwardedFor, String forwardedProto,
               String instanceId, String appId, String instanceIndex) {
        clear();
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
        endpointFields(instanceId, appId, instanceIndex);
    }

    /**
     * The {@code X-CF-*} fields of the endpoint the head goes to (the last two only when not empty), then the
     * blank line that ends the head.
     */
    void endpointFields(String instanceId, String appId, String instanceIndex) {
        field(BackendConnection.X_CF_INSTANCE_ID, instanceId);
        if (!appId.isEmpty()) {
            field(BackendConnection.X_CF_APPLICATION_ID, appId);
        }
        if (!instanceIndex.isEmpty()) {
            field(BackendConnection.X_CF_INSTANCE_INDEX, instanceIndex);
        }
        crlf();
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
}
