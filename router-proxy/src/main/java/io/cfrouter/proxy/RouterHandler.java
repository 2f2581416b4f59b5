package io.cfrouter.proxy;

import io.cfrouter.core.Endpoint;
import io.cfrouter.core.Health;
import io.cfrouter.registry.Route;
import io.cfrouter.registry.RouteEndpoint;
import io.cfrouter.registry.RouteRegistry;
import io.undertow.attribute.ExchangeAttribute;
import io.undertow.attribute.ReadOnlyAttributeException;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.handlers.proxy.ProxyHandler;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;

import java.util.Objects;
import java.util.UUID;
import java.util.function.Function;

/**
 * The router's proxy as an Undertow {@link HttpHandler}: answers the health check, finds the route in the
 * {@link RouteRegistry}, and hands the request to Undertow's {@link ProxyHandler} with a client that walks
 * the route's endpoints. Never blocks an I/O thread.
 */
public final class RouterHandler implements HttpHandler, AutoCloseable {

    static final HttpString X_VCAP_REQUEST_ID = new HttpString("X-Vcap-Request-Id");
    static final HttpString X_CF_INSTANCE_ID = new HttpString("X-CF-InstanceID");
    static final HttpString X_CF_APPLICATION_ID = new HttpString("X-CF-ApplicationID");
    static final HttpString X_CF_INSTANCE_INDEX = new HttpString("X-CF-InstanceIndex");
    static final HttpString X_REQUEST_START = new HttpString("X-Request-Start");

    private final RouteRegistry registry;
    private final ProxySettings settings;
    private final Health health;
    private final RegistryProxyClient client;
    private final ProxyHandler proxy;

    /**
     * @param registry where routes are looked up
     * @param settings proxy behaviour
     * @param health the router's health, for the {@code User-Agent} check
     */
    public RouterHandler(RouteRegistry registry, ProxySettings settings, Health health) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.health = Objects.requireNonNull(health, "health");
        this.client = new RegistryProxyClient(settings);
        this.proxy = ProxyHandler.builder()
                .setProxyClient(client)
                .setMaxRequestTime((int) Math.min(Integer.MAX_VALUE, settings.endpointTimeout().toMillis()))
                .setMaxConnectionRetries(settings.maxAttempts() - 1)
                .setReuseXForwarded(true)
                .setRewriteHostHeader(false)
                .setNext(this::noEndpoint)
                .addRequestHeader(X_CF_INSTANCE_ID, new EndpointAttribute(Endpoint::instanceId, true))
                .addRequestHeader(X_CF_APPLICATION_ID, new EndpointAttribute(Endpoint::appId, false))
                .addRequestHeader(X_CF_INSTANCE_INDEX, new EndpointAttribute(Endpoint::instanceIndex, false))
                .build();
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) throws Exception {
        String userAgent = exchange.getRequestHeaders().getFirst(Headers.USER_AGENT);
        if (settings.healthcheckUserAgent().equals(userAgent)) {
            healthCheck(exchange);
            return;
        }
        String host = exchange.getRequestHeaders().getFirst(Headers.HOST);
        if (host == null || host.isBlank()) {
            RouterErrors.emptyHost(exchange);
            return;
        }
        Route route = registry.lookup(host, exchange.getRequestPath());
        if (route == null) {
            RouterErrors.unknownRoute(exchange, host);
            return;
        }
        RegistryProxyClient.Attempt attempt =
                new RegistryProxyClient.Attempt(route.iterator(null), settings.maxAttempts());
        exchange.putAttachment(RegistryProxyClient.ATTEMPT, attempt);
        exchange.addExchangeCompleteListener((ex, next) -> {
            attempt.endCurrent();
            next.proceed();
        });
        exchange.addDefaultResponseListener(ex -> {
            if (ex.isResponseStarted()) {
                return false;
            }
            if (attempt.connectionLimit) {
                RouterErrors.connectionLimit(ex, host);
            } else {
                RouterErrors.endpointFailure(ex);
            }
            return true;
        });
        String requestId = UUID.randomUUID().toString();
        exchange.getRequestHeaders().put(X_VCAP_REQUEST_ID, requestId);
        if (!exchange.getResponseHeaders().contains(X_VCAP_REQUEST_ID)) {
            exchange.getResponseHeaders().put(X_VCAP_REQUEST_ID, requestId);
        }
        if (!exchange.getRequestHeaders().contains(X_REQUEST_START)) {
            exchange.getRequestHeaders().put(X_REQUEST_START, Long.toString(System.currentTimeMillis()));
        }
        proxy.handleRequest(exchange);
    }

    private void noEndpoint(HttpServerExchange exchange) {
        RegistryProxyClient.Attempt attempt = exchange.getAttachment(RegistryProxyClient.ATTEMPT);
        String host = exchange.getRequestHeaders().getFirst(Headers.HOST);
        if (attempt != null && attempt.connectionLimit) {
            RouterErrors.connectionLimit(exchange, host);
        } else {
            RouterErrors.endpointFailure(exchange);
        }
    }

    /** A field of the endpoint the current attempt goes to, read when the backend request is built. */
    private record EndpointAttribute(Function<Endpoint, String> field, boolean addressIfEmpty)
            implements ExchangeAttribute {

        @Override
        public String readAttribute(HttpServerExchange exchange) {
            RegistryProxyClient.Attempt attempt = exchange.getAttachment(RegistryProxyClient.ATTEMPT);
            RouteEndpoint endpoint = attempt == null ? null : attempt.current;
            if (endpoint == null) {
                return null;
            }
            String value = field.apply(endpoint.endpoint());
            return value.isEmpty() && addressIfEmpty ? endpoint.endpoint().address() : value;
        }

        @Override
        public void writeAttribute(HttpServerExchange exchange, String newValue) throws ReadOnlyAttributeException {
            throw new ReadOnlyAttributeException();
        }
    }

    private void healthCheck(HttpServerExchange exchange) {
        exchange.getResponseHeaders().put(Headers.CACHE_CONTROL, "private, max-age=0");
        exchange.getResponseHeaders().put(Headers.EXPIRES, "0");
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain; charset=utf-8");
        if (health.isHealthy()) {
            exchange.getResponseSender().send("ok\n");
        } else {
            exchange.setStatusCode(503);
            exchange.getResponseSender().send("503 Service Unavailable\n");
        }
    }

    /** Closes the backend connection pools. */
    @Override
    public void close() {
        client.close();
    }
}
