package io.cfrouter.proxy;

import io.cfrouter.core.Endpoint;
import io.undertow.client.ClientCallback;
import io.undertow.client.ClientConnection;
import io.undertow.client.ClientExchange;
import io.undertow.client.ClientRequest;
import io.undertow.client.ClientStatistics;
import io.undertow.connector.ByteBufferPool;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import org.xnio.ChannelListener;
import org.xnio.Option;
import org.xnio.StreamConnection;
import org.xnio.XnioIoThread;
import org.xnio.XnioWorker;

import java.io.IOException;
import java.net.SocketAddress;

/**
 * A pooled backend connection as one request sees it. Undertow's {@code ProxyHandler} builds the backend
 * request; this view corrects it where the contract differs, just before it is sent (the URI byte for byte,
 * hop-by-hop headers, the {@code X-Forwarded-*} and {@code X-CF-*} headers), and tells the request what
 * happened to it (not sent, failed before the response, response headers).
 */
final class BackendConnection implements ClientConnection {

    static final HttpString X_CF_INSTANCE_ID = new HttpString("X-CF-InstanceID");
    static final HttpString X_CF_APPLICATION_ID = new HttpString("X-CF-ApplicationID");
    static final HttpString X_CF_INSTANCE_INDEX = new HttpString("X-CF-InstanceIndex");

    private final ClientConnection delegate;
    private final ProxiedRequest request;

    BackendConnection(ClientConnection delegate, ProxiedRequest request) {
        this.delegate = delegate;
        this.request = request;
    }

    @Override
    public void sendRequest(ClientRequest clientRequest, ClientCallback<ClientExchange> callback) {
        HttpServerExchange exchange = request.exchange;
        clientRequest.setPath(RouterHandler.uriOf(exchange));
        HeaderMap out = clientRequest.getRequestHeaders();
        HeaderMap in = exchange.getRequestHeaders();
        HopByHop.strip(in, out, true, request.upgrade);
        out.put(Headers.X_FORWARDED_FOR, request.xForwardedFor);
        out.put(Headers.X_FORWARDED_PROTO, request.xForwardedProto);
        restore(in, out, Headers.X_FORWARDED_HOST);
        restore(in, out, Headers.X_FORWARDED_SERVER);
        restore(in, out, Headers.X_FORWARDED_PORT);
        Endpoint e = request.served;
        put(out, X_CF_INSTANCE_ID, e.instanceId().isEmpty() ? request.servedAddress : e.instanceId());
        put(out, X_CF_APPLICATION_ID, e.appId());
        put(out, X_CF_INSTANCE_INDEX, e.instanceIndex());
        delegate.sendRequest(clientRequest, new ClientCallback<>() {
            @Override
            public void completed(ClientExchange result) {
                callback.completed(new BackendExchange(result, request, BackendConnection.this));
            }

            @Override
            public void failed(IOException e) {
                request.sendFailed();
                callback.failed(e);
            }
        });
    }

    /** Undertow adds {@code X-Forwarded-Host/Server/Port}; the contract forwards only what the client sent. */
    private static void restore(HeaderMap in, HeaderMap out, HttpString name) {
        HeaderValues sent = in.get(name);
        if (sent == null) {
            out.remove(name);
        } else {
            out.putAll(name, sent);
        }
    }

    private static void put(HeaderMap out, HttpString name, String value) {
        if (value.isEmpty()) {
            out.remove(name);
        } else {
            out.put(name, value);
        }
    }

    /**
     * Undertow's proxy pipes an upgraded connection (WebSocket) itself: count what passes through the backend's
     * side of it, both ways, for the request's record.
     */
    @Override
    public StreamConnection performUpgrade() throws IOException {
        StreamConnection upgraded = delegate.performUpgrade();
        upgraded.getSourceChannel().setConduit(
                CountingConduits.fromBackend(upgraded.getSourceChannel().getConduit(), request));
        upgraded.getSinkChannel().setConduit(CountingConduits.toBackend(upgraded.getSinkChannel().getConduit(), request));
        return upgraded;
    }

    @Override
    public ByteBufferPool getBufferPool() {
        return delegate.getBufferPool();
    }

    @Override
    public SocketAddress getPeerAddress() {
        return delegate.getPeerAddress();
    }

    @Override
    public <A extends SocketAddress> A getPeerAddress(Class<A> type) {
        return delegate.getPeerAddress(type);
    }

    @Override
    public ChannelListener.Setter<? extends ClientConnection> getCloseSetter() {
        return delegate.getCloseSetter();
    }

    @Override
    public SocketAddress getLocalAddress() {
        return delegate.getLocalAddress();
    }

    @Override
    public <A extends SocketAddress> A getLocalAddress(Class<A> type) {
        return delegate.getLocalAddress(type);
    }

    @Override
    public XnioWorker getWorker() {
        return delegate.getWorker();
    }

    @Override
    public XnioIoThread getIoThread() {
        return delegate.getIoThread();
    }

    @Override
    public boolean isOpen() {
        return delegate.isOpen();
    }

    @Override
    public boolean supportsOption(Option<?> option) {
        return delegate.supportsOption(option);
    }

    @Override
    public <T> T getOption(Option<T> option) throws IOException {
        return delegate.getOption(option);
    }

    @Override
    public <T> T setOption(Option<T> option, T value) throws IOException {
        return delegate.setOption(option, value);
    }

    @Override
    public boolean isUpgraded() {
        return delegate.isUpgraded();
    }

    @Override
    public boolean isPushSupported() {
        return delegate.isPushSupported();
    }

    @Override
    public boolean isMultiplexingSupported() {
        return delegate.isMultiplexingSupported();
    }

    @Override
    public ClientStatistics getStatistics() {
        return delegate.getStatistics();
    }

    @Override
    public boolean isUpgradeSupported() {
        return delegate.isUpgradeSupported();
    }

    @Override
    public void addCloseListener(ChannelListener<ClientConnection> listener) {
        delegate.addCloseListener(listener);
    }

    @Override
    public void close() throws IOException {
        delegate.close();
    }
}
