package io.cfrouter.proxy;

import io.undertow.server.HttpServerExchange;
import io.undertow.util.Attachable;
import io.undertow.util.AttachmentKey;

import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * The client's address as the router writes it ({@code X-Forwarded-For}, the access log's client
 * address), formatted once per connection instead of once per request: a keep-alive connection carries
 * many requests from the same address, and formatting the IP and {@code ip:port} was 2-3 % of the
 * router's CPU under load. Kept as an attachment of the connection and checked against the exchange's
 * source address, so an embedder that sets a source address per exchange still gets it.
 *
 * @param address the exchange's source address, or null
 * @param ip {@link RouterHandler#clientIp} of it
 * @param ipAndPort {@link ProxiedRequest#clientAddress} of it
 */
record ClientAddress(InetSocketAddress address, String ip, String ipAndPort) {

    private static final AttachmentKey<ClientAddress> KEY = AttachmentKey.create(ClientAddress.class);

    /** The source address of {@code exchange}, formatted. Call on the connection's I/O thread. */
    static ClientAddress of(HttpServerExchange exchange) {
        return of(exchange.getSourceAddress(), exchange.getConnection());
    }

    /**
     * {@code a} formatted, kept on {@code connection}. Compared by value: the connection's peer address comes as
     * a new object from each {@code getSourceAddress()} (XNIO builds one per call).
     */
    static ClientAddress of(InetSocketAddress a, Attachable connection) {
        ClientAddress known = connection.getAttachment(KEY);
        if (known != null && Objects.equals(known.address, a)) {
            return known;
        }
        String ip = RouterHandler.clientIp(a);
        ClientAddress fresh = new ClientAddress(a, ip, ProxiedRequest.clientAddress(a, ip));
        connection.putAttachment(KEY, fresh);
        return fresh;
    }
}
