package io.cfrouter.proxy;

import io.undertow.conduits.IdleTimeoutConduit;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.protocol.http.HttpServerConnection;
import org.xnio.ChannelListener;
import org.xnio.StreamConnection;

/**
 * The frontend idle timeout of an upgraded or tunnelled client connection: Undertow's own idle conduit, put
 * at the bottom of each accepted connection and left off until the connection leaves HTTP ({@link #start}).
 * Between requests Undertow's no-request timeout closes idle connections; during a request this stays off,
 * since Undertow's conduit would also close a connection that waited on a slow backend for that long.
 */
final class ClientIdleTimeout extends IdleTimeoutConduit {

    private final long timeoutMillis;

    private ClientIdleTimeout(StreamConnection connection, long timeoutMillis) {
        super(connection);
        this.timeoutMillis = timeoutMillis;
    }

    /** Wraps an open listener: each accepted connection gets the (idle) conduit under everything else. */
    static ChannelListener<StreamConnection> installing(ChannelListener<StreamConnection> openListener,
                                                        long timeoutMillis) {
        return connection -> {
            ClientIdleTimeout idle = new ClientIdleTimeout(connection, timeoutMillis);
            connection.getSourceChannel().setConduit(idle);
            connection.getSinkChannel().setConduit(idle);
            openListener.handleEvent(connection);
        };
    }

    /** The exchange's connection is upgraded or tunnelled: from now on it closes after the idle timeout. */
    static void start(HttpServerExchange exchange) {
        if (exchange.getConnection() instanceof HttpServerConnection connection
                && connection.getOriginalSinkConduit() instanceof ClientIdleTimeout idle) {
            idle.setIdleTimeout(idle.timeoutMillis);
        }
    }
}
