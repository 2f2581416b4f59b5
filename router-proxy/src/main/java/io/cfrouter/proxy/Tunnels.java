package io.cfrouter.proxy;

import io.cfrouter.registry.RouteEndpoint;
import io.undertow.connector.PooledByteBuffer;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.protocol.http.HttpServerConnection;
import io.undertow.util.SameThreadExecutor;
import io.undertow.util.Transfer;
import io.undertow.util.WorkerUtils;
import org.xnio.ChannelExceptionHandler;
import org.xnio.ChannelListener;
import org.xnio.ChannelListeners;
import org.xnio.IoFuture;
import org.xnio.IoUtils;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.StreamConnection;
import org.xnio.XnioExecutor;
import org.xnio.channels.StreamSinkChannel;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * The raw tunnels of behaviour reference §3.6: {@code CONNECT} to a registered route, and the original
 * router's {@code Upgrade: tcp}. The router connects to an endpoint of the route (trying others like any
 * request), then takes the client's connection over from Undertow and pipes bytes both ways until either
 * side closes. For {@code CONNECT} it first answers {@code 200 Connection Established}; for
 * {@code Upgrade: tcp} it answers nothing and the request head is not forwarded. Neither is cut by
 * {@code endpoint_timeout}; the client side closes after the listener's idle timeout.
 */
final class Tunnels {

    private static final byte[] CONNECT_ESTABLISHED =
            "HTTP/1.1 200 Connection Established\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final OptionMap OPTIONS = OptionMap.builder()
            .set(Options.TCP_NODELAY, true)
            .set(Options.KEEP_ALIVE, true)
            .getMap();

    private final RouterHandler handler;

    Tunnels(RouterHandler handler) {
        this.handler = handler;
    }

    void connect(ProxiedRequest r) {
        start(r, true);
    }

    void tcp(ProxiedRequest r) {
        start(r, false);
    }

    private void start(ProxiedRequest r, boolean connect) {
        HttpServerExchange exchange = r.exchange;
        if (!(exchange.getConnection() instanceof HttpServerConnection)) {
            RouterErrors.endpointFailure(exchange); // HTTP/2 or AJP: no raw connection to take over
            return;
        }
        exchange.addExchangeCompleteListener(r);
        exchange.dispatch(exchange.isInIoThread() ? SameThreadExecutor.INSTANCE : exchange.getIoThread(),
                () -> attempt(r, connect));
    }

    private void attempt(ProxiedRequest r, boolean connect) {
        HttpServerExchange exchange = r.exchange;
        if (r.next() == null) {
            handler.routerAnswer(r);
            return;
        }
        RouteEndpoint endpoint = r.current;
        InetSocketAddress address = new InetSocketAddress(endpoint.endpoint().host(), endpoint.endpoint().port());
        IoFuture<StreamConnection> future = exchange.getIoThread().openStreamConnection(address, null, OPTIONS);
        XnioExecutor.Key timer = WorkerUtils.executeAfter(exchange.getIoThread(), future::cancel,
                handler.settings.endpointDialTimeout().toMillis(), TimeUnit.MILLISECONDS);
        future.addNotifier(new IoFuture.HandlingNotifier<StreamConnection, Void>() {
            @Override
            public void handleDone(StreamConnection backend, Void attachment) {
                timer.remove();
                exchange.getIoThread().execute(() -> takeOver(r, backend, connect));
            }

            @Override
            public void handleFailed(IOException e, Void attachment) {
                timer.remove();
                exchange.getIoThread().execute(() -> retry(r, connect));
            }

            @Override
            public void handleCancelled(Void attachment) {
                exchange.getIoThread().execute(() -> retry(r, connect));
            }
        }, null);
    }

    private void retry(ProxiedRequest r, boolean connect) {
        r.connectFailed();
        attempt(r, connect);
    }

    private void takeOver(ProxiedRequest r, StreamConnection backend, boolean connect) {
        HttpServerExchange exchange = r.exchange;
        // The exchange itself stays 200: a 101 would make Undertow look for an upgrade listener when the
        // connection closes. The record says 101 for the raw tunnel.
        exchange.setPersistent(false);
        r.recordStatus = connect ? 200 : 101;
        HttpServerConnection connection = (HttpServerConnection) exchange.getConnection();
        StreamConnection client = connection.getChannel();
        PooledByteBuffer extra = connection.getExtraBytes();
        connection.setExtraBytes(null);
        client.getSourceChannel().setConduit(CountingConduits.fromClient(connection.getOriginalSourceConduit(), r));
        client.getSinkChannel().setConduit(connection.getOriginalSinkConduit());
        ClientIdleTimeout.start(exchange);
        backend.getSourceChannel().setConduit(CountingConduits.fromBackend(backend.getSourceChannel().getConduit(), r));
        backend.setCloseListener(c -> {
            IoUtils.safeClose(client);
            r.finish();
        });
        Runnable pipe = () -> {
            ClosingHandler onError = new ClosingHandler(client, backend);
            Transfer.initiateTransfer(backend.getSourceChannel(), client.getSinkChannel(),
                    ChannelListeners.closingChannelListener(), shutdownWhenDone(), onError, onError,
                    exchange.getConnection().getByteBufferPool());
            Transfer.initiateTransfer(client.getSourceChannel(), backend.getSinkChannel(),
                    ChannelListeners.closingChannelListener(), shutdownWhenDone(), onError, onError,
                    exchange.getConnection().getByteBufferPool());
        };
        Runnable sendExtra = () -> {
            if (extra == null) {
                pipe.run();
            } else {
                r.requestBytes += extra.getBuffer().remaining(); // read with the request head
                writeFully(backend.getSinkChannel(), extra.getBuffer(), () -> {
                    extra.close();
                    pipe.run();
                }, client, backend);
            }
        };
        if (connect) {
            writeFully(client.getSinkChannel(), ByteBuffer.wrap(CONNECT_ESTABLISHED), sendExtra, client, backend);
        } else {
            sendExtra.run();
        }
    }

    private static ChannelListener<StreamSinkChannel> shutdownWhenDone() {
        return ChannelListeners.writeShutdownChannelListener(
                ChannelListeners.<StreamSinkChannel>flushingChannelListener(ChannelListeners.closingChannelListener(),
                        ChannelListeners.closingChannelExceptionHandler()),
                ChannelListeners.closingChannelExceptionHandler());
    }

    /** Writes {@code buffer} without blocking, then runs {@code then}; closes both sides on failure. */
    private static void writeFully(StreamSinkChannel sink, ByteBuffer buffer, Runnable then,
                                   StreamConnection a, StreamConnection b) {
        try {
            while (buffer.hasRemaining()) {
                if (sink.write(buffer) == 0) {
                    sink.getWriteSetter().set(channel -> {
                        try {
                            while (buffer.hasRemaining()) {
                                if (channel.write(buffer) == 0) {
                                    return;
                                }
                            }
                            channel.suspendWrites();
                            channel.getWriteSetter().set(null);
                            then.run();
                        } catch (IOException e) {
                            IoUtils.safeClose(a, b);
                        }
                    });
                    sink.resumeWrites();
                    return;
                }
            }
            sink.flush();
            then.run();
        } catch (IOException e) {
            IoUtils.safeClose(a, b);
        }
    }

    private record ClosingHandler(StreamConnection a, StreamConnection b) implements ChannelExceptionHandler<Channel> {
        @Override
        public void handleException(Channel channel, IOException exception) {
            IoUtils.safeClose(channel);
            IoUtils.safeClose(a, b);
        }
    }
}
