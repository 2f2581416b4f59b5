package io.cfrouter.proxy;

import io.cfrouter.registry.RegistryEvent;
import io.undertow.client.ClientCallback;
import io.undertow.client.ClientConnection;
import io.undertow.client.UndertowClient;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.handlers.proxy.ConnectionPoolManager;
import io.undertow.server.handlers.proxy.ProxyCallback;
import io.undertow.server.handlers.proxy.ProxyClient;
import io.undertow.server.handlers.proxy.ProxyConnection;
import io.undertow.server.handlers.proxy.ProxyConnectionPool;
import org.xnio.IoUtils;
import org.xnio.OptionMap;
import org.xnio.Options;

import java.io.IOException;
import java.net.URI;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Undertow's {@link ProxyClient}, backed by the routing table: the request's {@link ProxiedRequest} walks the
 * route's endpoints, and each endpoint address has its own keep-alive {@link ProxyConnectionPool}. Undertow
 * asks again for a target after a failed attempt; the request decides whether there is one.
 */
final class RegistryProxyClient implements ProxyClient, AutoCloseable {

    private final UndertowClient client = UndertowClient.getInstance();
    private final ConcurrentHashMap<String, ProxyConnectionPool> pools = new ConcurrentHashMap<>();
    /** Pooled connections that have been handed out before: a failure on one may be the keep-alive race. */
    private final Set<ClientConnection> used = ConcurrentHashMap.newKeySet();
    private final OptionMap connectOptions = OptionMap.builder()
            .set(Options.TCP_NODELAY, true)
            .set(Options.KEEP_ALIVE, true)
            .getMap();

    @Override
    public ProxyTarget findTarget(HttpServerExchange exchange) {
        ProxiedRequest request = exchange.getAttachment(ProxiedRequest.KEY);
        return request == null ? null : request.next();
    }

    @Override
    public void getConnection(ProxyTarget target, HttpServerExchange exchange,
                              ProxyCallback<ProxyConnection> callback, long timeout, TimeUnit timeUnit) {
        ProxiedRequest request = (ProxiedRequest) target;
        request.proxyCallback = callback;
        request.backend = null;
        ProxiedRequest.Dial dial = request.new Dial();
        request.dial = dial;
        if (request.freshConnection) {
            connectUnpooled(request, dial);
        } else {
            pool(request.servedAddress).connect(target, exchange, dial, -1, TimeUnit.MILLISECONDS, false);
        }
    }

    private void connectUnpooled(ProxiedRequest request, ProxiedRequest.Dial dial) {
        HttpServerExchange exchange = request.exchange;
        client.connect(new ClientCallback<>() {
            @Override
            public void completed(ClientConnection connection) {
                if (request.dial != dial) {
                    IoUtils.safeClose(connection);
                    return;
                }
                request.unpooled = connection;
                dial.completed(exchange, new ProxyConnection(connection, "/"));
            }

            @Override
            public void failed(IOException e) {
                dial.failed(exchange);
            }
        }, null, uri(request.servedAddress), exchange.getIoThread(), null, exchange.getConnection().getByteBufferPool(),
                connectOptions);
    }

    /** A connection for the request's attempt is ready; was it used before? */
    void connected(ProxiedRequest request, ClientConnection connection) {
        request.backend = connection;
        if (connection == request.unpooled) {
            request.backendReused = false;
        } else if (used.contains(connection)) {
            request.backendReused = true;
        } else {
            request.backendReused = false;
            used.add(connection);
            connection.addCloseListener(used::remove);
        }
    }

    private ProxyConnectionPool pool(String address) {
        ProxyConnectionPool pool = pools.get(address);
        if (pool != null) {
            return pool;
        }
        return pools.computeIfAbsent(address, a -> new ProxyConnectionPool(new PoolManager(), uri(a), client,
                connectOptions));
    }

    private static URI uri(String address) {
        return URI.create("http://" + address);
    }

    /**
     * An endpoint left a route: drop its pool, so pools do not pile up as instances come and go. If the
     * address still serves another route, its next request opens a new pool; only idle connections are lost.
     */
    void onRegistryEvent(RegistryEvent event) {
        RegistryEvent.Type type = event.type();
        if (type == RegistryEvent.Type.ENDPOINT_REMOVED || type == RegistryEvent.Type.ENDPOINT_PRUNED) {
            ProxyConnectionPool pool = pools.remove(event.endpoint().address());
            if (pool != null) {
                pool.close();
            }
        }
    }

    int poolCount() {
        return pools.size();
    }

    @Override
    public List<ProxyTarget> getAllTargets() {
        return List.of();
    }

    /** Closes the idle pooled connections. */
    @Override
    public void close() {
        pools.values().forEach(ProxyConnectionPool::close);
        pools.clear();
    }

    /**
     * Pool limits. Failures are tracked by the registry, so the pool never gives up on a host; the connection
     * limit is the registry's {@code max_conns}, so the pool neither limits nor queues. Idle connections close
     * after 30 s.
     */
    private static final class PoolManager implements ConnectionPoolManager {
        @Override
        public int getProblemServerRetry() {
            return -1;
        }

        @Override
        public int getMaxConnections() {
            return Integer.MAX_VALUE;
        }

        @Override
        public int getMaxCachedConnections() {
            return 512;
        }

        @Override
        public int getSMaxConnections() {
            return 0;
        }

        @Override
        public long getTtl() {
            return TimeUnit.SECONDS.toMillis(30);
        }

        @Override
        public int getMaxQueueSize() {
            return 0;
        }

        @Override
        public boolean isAvailable() {
            return true;
        }

        @Override
        public boolean handleError() {
            return true;
        }

        @Override
        public boolean clearError() {
            return true;
        }
    }
}
