package io.cfrouter.proxy;

import io.cfrouter.registry.EndpointIterator;
import io.cfrouter.registry.RouteEndpoint;
import io.undertow.client.UndertowClient;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.handlers.proxy.ConnectionPoolManager;
import io.undertow.server.handlers.proxy.ProxyCallback;
import io.undertow.server.handlers.proxy.ProxyClient;
import io.undertow.server.handlers.proxy.ProxyConnection;
import io.undertow.server.handlers.proxy.ProxyConnectionPool;
import io.undertow.util.AttachmentKey;
import org.xnio.OptionMap;
import org.xnio.Options;

import java.net.URI;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Undertow's {@link ProxyClient}, backed by the routing table: the request's {@link Attempt} says which
 * endpoints to try, and each endpoint address has its own keep-alive {@link ProxyConnectionPool}.
 */
final class RegistryProxyClient implements ProxyClient, AutoCloseable {

    static final AttachmentKey<Attempt> ATTEMPT = AttachmentKey.create(Attempt.class);

    private final UndertowClient client = UndertowClient.getInstance();
    private final ConcurrentHashMap<String, ProxyConnectionPool> pools = new ConcurrentHashMap<>();
    private final OptionMap connectOptions;

    RegistryProxyClient(ProxySettings settings) {
        this.connectOptions = OptionMap.builder()
                .set(Options.TCP_NODELAY, true)
                .set(Options.KEEP_ALIVE, true)
                .getMap();
    }

    /** One request's walk over its route's endpoints. */
    static final class Attempt {
        final EndpointIterator endpoints;
        final int maxAttempts;
        int attempts;
        RouteEndpoint current;
        boolean connectionLimit;

        Attempt(EndpointIterator endpoints, int maxAttempts) {
            this.endpoints = endpoints;
            this.maxAttempts = maxAttempts;
        }

        /** Ends the current attempt (if any) and starts the next; {@code null} when none is left. */
        RouteEndpoint advance() {
            endCurrent();
            if (attempts >= maxAttempts) {
                return null;
            }
            RouteEndpoint next = endpoints.next();
            if (next == null) {
                connectionLimit = endpoints.connectionLimitReached() && attempts == 0;
                return null;
            }
            attempts++;
            current = next;
            return next;
        }

        void endCurrent() {
            if (current != null) {
                current.release();
                current = null;
            }
        }
    }

    /** The endpoint one connection attempt goes to. */
    record Target(RouteEndpoint endpoint) implements ProxyTarget {
    }

    @Override
    public ProxyTarget findTarget(HttpServerExchange exchange) {
        Attempt attempt = exchange.getAttachment(ATTEMPT);
        if (attempt == null) {
            return null;
        }
        if (attempt.current != null) {
            // Asked again: the attempt on the current endpoint failed.
            attempt.current.markFailed();
        }
        RouteEndpoint next = attempt.advance();
        return next == null ? null : new Target(next);
    }

    @Override
    public void getConnection(ProxyTarget target, HttpServerExchange exchange,
                              ProxyCallback<ProxyConnection> callback, long timeout, TimeUnit timeUnit) {
        RouteEndpoint endpoint = ((Target) target).endpoint();
        pool(endpoint).connect(target, exchange, callback, timeout, timeUnit, false);
    }

    private ProxyConnectionPool pool(RouteEndpoint endpoint) {
        String address = endpoint.endpoint().address();
        ProxyConnectionPool pool = pools.get(address);
        if (pool != null) {
            return pool;
        }
        return pools.computeIfAbsent(address, a -> new ProxyConnectionPool(new PoolManager(),
                URI.create("http://" + a), client, connectOptions));
    }

    @Override
    public void close() {
        pools.values().forEach(ProxyConnectionPool::close);
        pools.clear();
    }

    /** Pool limits; failures are tracked by the registry, so the pool itself never gives up on a host. */
    private static final class PoolManager implements ConnectionPoolManager {
        @Override
        public int getProblemServerRetry() {
            return -1;
        }

        @Override
        public int getMaxConnections() {
            return 4096;
        }

        @Override
        public int getMaxCachedConnections() {
            return 256;
        }

        @Override
        public int getSMaxConnections() {
            return 64;
        }

        @Override
        public long getTtl() {
            return TimeUnit.SECONDS.toMillis(60);
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
