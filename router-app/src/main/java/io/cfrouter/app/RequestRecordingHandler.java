package io.cfrouter.app;

import io.cfrouter.core.Endpoint;
import io.cfrouter.core.RequestObserver;
import io.cfrouter.core.RequestRecord;
import io.cfrouter.registry.Route;
import io.cfrouter.registry.RouteRegistry;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HeaderMap;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;

import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * Tells a {@link RequestObserver} about every request the proxy finished. A stop-gap until the proxy's
 * {@code RouterHandler} reports its own {@link RequestRecord}s (issue 5), which know the endpoint that
 * actually answered; here the application and component come from the route's first endpoint.
 */
final class RequestRecordingHandler implements HttpHandler {

    private static final HttpString X_CF_ROUTER_ERROR = new HttpString("X-Cf-RouterError");
    private static final HttpString X_VCAP_REQUEST_ID = new HttpString("X-Vcap-Request-Id");
    private static final HttpString X_FORWARDED_FOR = new HttpString("X-Forwarded-For");
    private static final HttpString X_FORWARDED_PROTO = new HttpString("X-Forwarded-Proto");

    private final HttpHandler next;
    private final RouteRegistry registry;
    private final RequestObserver observer;

    RequestRecordingHandler(HttpHandler next, RouteRegistry registry, RequestObserver observer) {
        this.next = Objects.requireNonNull(next, "next");
        this.registry = Objects.requireNonNull(registry, "registry");
        this.observer = Objects.requireNonNull(observer, "observer");
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) throws Exception {
        long startNanos = System.nanoTime();
        long startMillis = System.currentTimeMillis();
        String host = orEmpty(exchange.getRequestHeaders().getFirst(Headers.HOST));
        Route route = host.isEmpty() ? null : registry.lookup(host, exchange.getRequestPath());
        Endpoint endpoint = route == null ? null : route.endpoints().get(0).endpoint();
        exchange.addExchangeCompleteListener((ex, nextListener) -> {
            try {
                observer.onRequest(record(ex, host, startMillis, System.nanoTime() - startNanos, endpoint));
            } finally {
                nextListener.proceed();
            }
        });
        next.handleRequest(exchange);
    }

    private static RequestRecord record(HttpServerExchange ex, String host, long startMillis, long durationNanos,
                                        Endpoint endpoint) {
        HeaderMap request = ex.getRequestHeaders();
        HeaderMap response = ex.getResponseHeaders();
        InetSocketAddress client = ex.getSourceAddress();
        String uri = ex.getQueryString().isEmpty() ? ex.getRequestURI() : ex.getRequestURI() + "?" + ex.getQueryString();
        return new RequestRecord(host, startMillis, ex.getRequestMethod().toString(), uri,
                ex.getProtocol().toString(), ex.getStatusCode(), Math.max(0, ex.getRequestContentLength()),
                ex.getResponseBytesSent(), orEmpty(request.getFirst(Headers.REFERER)),
                orEmpty(request.getFirst(Headers.USER_AGENT)),
                client == null ? "" : client.getHostString() + ":" + client.getPort(),
                endpoint == null ? "" : endpoint.address(), orEmpty(request.getFirst(X_FORWARDED_FOR)),
                orEmpty(request.getFirst(X_FORWARDED_PROTO)), orEmpty(response.getFirst(X_VCAP_REQUEST_ID)),
                durationNanos, endpoint == null ? "" : endpoint.appId(),
                endpoint == null ? "" : endpoint.instanceIndex(), endpoint == null ? "" : endpoint.instanceId(),
                endpoint == null ? "" : endpoint.component(), orEmpty(response.getFirst(X_CF_ROUTER_ERROR)));
    }

    private static String orEmpty(String s) {
        return s == null ? "" : s;
    }
}
