package io.cfrouter.proxy;

import io.cfrouter.core.Endpoint;
import io.cfrouter.core.Health;
import io.cfrouter.core.RequestObserver;
import io.cfrouter.core.RequestRecord;
import io.cfrouter.registry.RegistryEvent;
import io.cfrouter.registry.RegistryListener;
import io.cfrouter.registry.Route;
import io.cfrouter.registry.RouteRegistry;
import io.undertow.client.ClientResponse;
import io.undertow.server.ExchangeCompletionListener;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.handlers.proxy.ProxyHandler;
import io.undertow.server.protocol.http.HttpServerConnection;
import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.Methods;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * The router's proxy as an Undertow {@link HttpHandler} (behaviour reference §3): answers the
 * {@code User-Agent} health check, finds the route, and proxies the request to one of its endpoints (plain
 * requests through the pass-through forwarder or Undertow's {@link ProxyHandler}, as {@link ProxyEngine} says;
 * WebSocket upgrades through Undertow's), with pooled keep-alive backend connections, retries on other endpoints,
 * sticky sessions, WebSocket and other upgrades, the {@code Upgrade: tcp} tunnel and {@code CONNECT} to
 * registered routes. Each finished request is reported to the {@link RequestObserver}.
 *
 * <p>Never blocks: call it on an I/O thread (it is the root handler of a listener built by
 * {@link ProxyServer}, or sits behind non-blocking handlers of the embedder's). Thread-safe; one instance
 * serves every connection. {@link #close()} closes the idle backend connections.
 *
 * <p>Build one with {@link #builder(RouteRegistry)}.
 */
public final class RouterHandler implements HttpHandler, AutoCloseable {

    private static final Logger LOGGER = LogManager.getLogger();

    static final HttpString X_VCAP_REQUEST_ID = new HttpString("X-Vcap-Request-Id");
    static final HttpString X_REQUEST_START = new HttpString("X-Request-Start");
    static final HttpString X_VCAP_TRACE = new HttpString("X-Vcap-Trace");
    static final HttpString X_VCAP_ROUTER = new HttpString("X-Vcap-Router");
    static final HttpString X_VCAP_BACKEND = new HttpString("X-Vcap-Backend");
    static final HttpString X_CF_ROUTE_ENDPOINT = new HttpString("X-Cf-RouteEndpoint");

    final ProxySettings settings;
    final RegistryProxyClient client;
    /** The pass-through forwarder; null with {@link ProxyEngine#UNDERTOW}. */
    final Forwarder forwarder;
    /** {@code endpoint_timeout} and {@code endpoint_dial_timeout}, per I/O thread. */
    final Deadlines responseDeadlines;
    final Deadlines dialDeadlines;
    final RouteRegistry registry;
    private final RegistryListener poolCleaner;
    private final Health health;
    private final RequestObserver observer;
    private final RouteLookup lookup;
    final StickySessions sticky;
    /** The route is the registry's own lookup (no {@link RouteLookup} of the embedder's around it). */
    final boolean registryLookup;
    private final ProxyHandler proxy;
    private final Tunnels tunnels;

    private RouterHandler(Builder b) {
        this.settings = b.settings;
        this.health = b.health;
        this.observer = b.observer;
        this.lookup = b.lookup != null ? b.lookup : RouteLookup.of(b.registry);
        this.registryLookup = b.lookup == null;
        this.sticky = new StickySessions(settings.stickySessionCookieNames(), settings.secureCookies());
        this.client = new RegistryProxyClient();
        this.forwarder = b.engine == ProxyEngine.FORWARDER ? new Forwarder() : null;
        this.responseDeadlines = new Deadlines(settings.endpointTimeout());
        this.dialDeadlines = new Deadlines(settings.endpointDialTimeout());
        this.registry = b.registry;
        this.poolCleaner = this::onRegistryEvent;
        registry.addListener(poolCleaner);
        this.tunnels = new Tunnels(this);
        this.proxy = ProxyHandler.builder()
                .setProxyClient(client)
                // The contract's deadline covers only the wait for response headers: ProxiedRequest keeps it.
                .setMaxRequestTime(-1)
                // ProxiedRequest bounds the attempts (max_attempts, deadline); Undertow just asks again.
                .setMaxConnectionRetries(Integer.MAX_VALUE)
                .setIdempotentRequestPredicate(exchange -> {
                    ProxiedRequest r = exchange.getAttachment(ProxiedRequest.KEY);
                    return r != null && r.retryable();
                })
                .setReuseXForwarded(true)
                .setRewriteHostHeader(false)
                .setNext(this::noEndpoint)
                .build();
    }

    /** A builder for a handler over {@code registry}. */
    public static Builder builder(RouteRegistry registry) {
        return new Builder(registry);
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) throws Exception {
        HeaderMap headers = exchange.getRequestHeaders();
        if ((RequestHeadWatch.flags(exchange) & RequestHeadWatch.FOLDED) != 0) {
            answerLocally(exchange, ProxiedRequest.orEmpty(headers.getFirst(Headers.HOST)), System.nanoTime(),
                    System.currentTimeMillis());
            RouterErrors.malformedRequest(exchange, "Obsolete line folding in the request header section.");
            return;
        }
        if (settings.healthcheckUserAgent().equals(headers.getFirst(Headers.USER_AGENT))) {
            healthCheck(exchange);
            return;
        }
        long startNanos = System.nanoTime();
        long startMillis = System.currentTimeMillis();
        if (headBytes(exchange) > settings.maxRequestHeaderBytes()) {
            answerLocally(exchange, "", startNanos, startMillis);
            RouterErrors.headersTooLarge(exchange);
            return;
        }
        if (!RequestFraming.hasAcceptableTransferEncoding(headers)) {
            answerLocally(exchange, "", startNanos, startMillis);
            RouterErrors.malformedRequest(exchange, "Transfer-Encoding other than chunked.");
            return;
        }
        String host = headers.getFirst(Headers.HOST);
        if (host == null || host.isBlank()) {
            answerLocally(exchange, "", startNanos, startMillis);
            RouterErrors.emptyHost(exchange);
            return;
        }
        boolean connect = exchange.getRequestMethod().equals(Methods.CONNECT);
        String path = connect ? "/" : pathOf(exchange);
        Route route = lookup.lookup(exchange, connect ? exchange.getRequestURI() : host, path);
        if (route == null) {
            answerLocally(exchange, host, startNanos, startMillis);
            RouterErrors.unknownRoute(exchange, connect ? exchange.getRequestURI() : host);
            return;
        }
        boolean upgrade = HopByHop.isUpgrade(headers);
        String requestId = RequestIds.next();
        boolean forward = forwarder != null && !connect && !upgrade
                && exchange.getConnection() instanceof HttpServerConnection;
        String stickyInstance = sticky.requestedInstance(headers);
        ProxiedRequest r = forward
                ? new ForwardedRequest(this, exchange, route, host, requestId, stickyInstance, startNanos, startMillis)
                : new ProxiedRequest(this, exchange, route, host, requestId, stickyInstance, startNanos, startMillis,
                        upgrade);
        if (!forward) {
            // Undertow's proxy finds the request through the exchange. The forwarder holds it itself: with no
            // attachment, the exchange's attachment map is never made, and every lookup in it (Undertow asks
            // for the reason phrase of each response) ends at once.
            exchange.putAttachment(ProxiedRequest.KEY, r);
        }
        r.xForwardedFor = forwardedFor(exchange, r.sourceIp);
        String proto = headers.getFirst(Headers.X_FORWARDED_PROTO);
        r.xForwardedProto = proto != null ? proto : exchange.getRequestScheme();
        headers.put(X_VCAP_REQUEST_ID, requestId);
        if (!headers.contains(X_REQUEST_START)) {
            headers.put(X_REQUEST_START, Long.toString(startMillis));
        }
        if (connect) {
            tunnels.connect(r);
            return;
        }
        if (upgrade && "tcp".equalsIgnoreCase(headers.getFirst(Headers.UPGRADE))) {
            tunnels.tcp(r);
            return;
        }
        exchange.addExchangeCompleteListener(r);
        exchange.addDefaultResponseListener(r);
        RequestFraming.enforceStrictChunks(exchange);
        ClientSideConduits.install(exchange, r);
        r.startDeadline();
        if (forward) {
            forwarder.forward((ForwardedRequest) r);
        } else {
            proxy.handleRequest(exchange);
        }
    }

    /** Undertow found no target for the first attempt. */
    private void noEndpoint(HttpServerExchange exchange) {
        ProxiedRequest r = exchange.getAttachment(ProxiedRequest.KEY);
        if (r == null) {
            RouterErrors.endpointFailure(exchange);
        } else {
            routerAnswer(r);
        }
    }

    /** Every attempt failed, or none could be made: 503 at the connection limit, else 502. */
    void routerAnswer(ProxiedRequest r) {
        HttpServerExchange exchange = r.exchange;
        exchange.getResponseHeaders().put(X_VCAP_REQUEST_ID, r.requestId);
        traceHeaders(r, exchange.getResponseHeaders());
        if (r.connectionLimit) {
            RouterErrors.connectionLimit(exchange, r.host);
        } else {
            RouterErrors.endpointFailure(exchange);
        }
    }

    /** The backend's response headers arrived: adjust them before Undertow copies them to the client. */
    void onResponseHeaders(ProxiedRequest r, ClientResponse response) {
        r.onResponseHeaders();
        HeaderMap headers = response.getResponseHeaders();
        HopByHop.strip(headers, headers, false, response.getResponseCode() == 101);
        adjustResponseHeaders(r, headers);
    }

    /** The contract's changes to a backend's response headers (hop-by-hop ones already gone). */
    void adjustResponseHeaders(ProxiedRequest r, HeaderMap headers) {
        adjustResponseHeaders(r, headers, headers.contains(X_VCAP_REQUEST_ID), headers.contains(Headers.SET_COOKIE));
    }

    /**
     * As {@link #adjustResponseHeaders(ProxiedRequest, HeaderMap)}, told whether {@code headers} hold an
     * {@code X-Vcap-Request-Id} and a {@code Set-Cookie} (the forwarder knows from parsing the backend's head;
     * a miss in a {@link HeaderMap} compares the names that share its bucket).
     */
    void adjustResponseHeaders(ProxiedRequest r, HeaderMap headers, boolean hasRequestId, boolean hasSetCookie) {
        if (!hasRequestId) {
            headers.put(X_VCAP_REQUEST_ID, r.requestId);
        }
        sticky.onResponse(headers, hasSetCookie ? headers.get(Headers.SET_COOKIE) : null, r.served.instanceId(),
                r.route.key().contextPath(), r.stickyInstance);
        traceHeaders(r, headers);
    }

    private void traceHeaders(ProxiedRequest r, HeaderMap responseHeaders) {
        String key = settings.traceKey();
        if (key.isEmpty() || !key.equals(r.exchange.getRequestHeaders().getFirst(X_VCAP_TRACE))) {
            return;
        }
        responseHeaders.put(X_VCAP_ROUTER, settings.routerHost());
        Endpoint e = r.served;
        if (e != null) {
            responseHeaders.put(X_VCAP_BACKEND, r.servedAddress);
            responseHeaders.put(X_CF_ROUTE_ENDPOINT, r.servedAddress);
        }
    }

    void report(ProxiedRequest r) {
        report(r.record());
    }

    void report(RequestRecord record) {
        try {
            observer.onRequest(record);
        } catch (RuntimeException e) {
            LOGGER.warn("Request observer {} failed", observer, e);
        }
    }

    /** Reports a request the router answers itself, once its response is done. */
    private void answerLocally(HttpServerExchange exchange, String host, long startNanos, long startMillis) {
        exchange.addExchangeCompleteListener(new LocalAnswer(host, startNanos, startMillis));
    }

    private final class LocalAnswer implements ExchangeCompletionListener {
        private final String host;
        private final long startNanos;
        private final long startMillis;

        LocalAnswer(String host, long startNanos, long startMillis) {
            this.host = host;
            this.startNanos = startNanos;
            this.startMillis = startMillis;
        }

        @Override
        public void exchangeEvent(HttpServerExchange ex, NextListener nextListener) {
            try {
                HeaderMap h = ex.getRequestHeaders();
                ClientAddress client = ClientAddress.of(ex);
                String ip = client.ip();
                String proto = h.getFirst(Headers.X_FORWARDED_PROTO);
                report(new RequestRecord(host, startMillis, ex.getRequestMethod().toString(), uriOf(ex),
                        ex.getProtocol().toString(), ex.getStatusCode(), 0, ex.getResponseBytesSent(),
                        ProxiedRequest.orEmpty(h.getFirst(Headers.REFERER)),
                        ProxiedRequest.orEmpty(h.getFirst(Headers.USER_AGENT)),
                        client.ipAndPort(),
                        "", forwardedFor(ex, ip), proto != null ? proto : ex.getRequestScheme(), "",
                        System.nanoTime() - startNanos, "", "", "", "",
                        ProxiedRequest.orEmpty(ex.getResponseHeaders().getFirst(RouterErrors.X_CF_ROUTER_ERROR))));
            } finally {
                nextListener.proceed();
            }
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

    // ---- request facts --------------------------------------------------------------------------------

    /**
     * The request URI in origin form, as the client sent it (percent-encoding, {@code ;}, {@code //} and every
     * {@code ?} kept).
     */
    static String uriOf(HttpServerExchange exchange) {
        String uri = exchange.getRequestURI();
        if (exchange.getRequestMethod().equals(Methods.CONNECT)) {
            return uri; // authority form: host:port
        }
        if (exchange.isHostIncludedInRequestURI()) {
            int authority = uri.indexOf("//");
            int slash = authority < 0 ? -1 : uri.indexOf('/', authority + 2);
            uri = slash < 0 ? "/" : uri.substring(slash);
        }
        String separator = RequestHeadWatch.querySeparator(exchange);
        return separator.isEmpty() ? uri : uri + separator + exchange.getQueryString();
    }

    private static String pathOf(HttpServerExchange exchange) {
        String uri = exchange.getRequestURI();
        if (exchange.isHostIncludedInRequestURI()) {
            int authority = uri.indexOf("//");
            int slash = authority < 0 ? -1 : uri.indexOf('/', authority + 2);
            return slash < 0 ? "/" : uri.substring(slash);
        }
        return uri;
    }

    /** The client's IP as text; empty when unknown. */
    static String clientIp(InetSocketAddress a) {
        return a == null ? "" : a.getAddress() == null ? a.getHostString() : a.getAddress().getHostAddress();
    }

    /** The client's {@code X-Forwarded-For} values with the client's IP ({@link #clientIp}) appended. */
    static String forwardedFor(HttpServerExchange exchange, String ip) {
        HeaderValues sent = exchange.getRequestHeaders().get(Headers.X_FORWARDED_FOR);
        if (sent == null || sent.isEmpty()) {
            return ip;
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < sent.size(); i++) {
            String v = sent.get(i).trim();
            if (!v.isEmpty()) {
                sb.append(v).append(", ");
            }
        }
        return sb.append(ip).toString();
    }

    static boolean isBodiless(HeaderMap headers) {
        if (headers.contains(Headers.TRANSFER_ENCODING)) {
            return false;
        }
        String length = headers.getFirst(Headers.CONTENT_LENGTH);
        return length == null || length.trim().equals("0");
    }

    /** The size of the request head as sent: request line and header lines. */
    private static long headBytes(HttpServerExchange exchange) {
        long n = exchange.getRequestMethod().length() + 1 + exchange.getRequestURI().length() + 1
                + exchange.getProtocol().length() + 2;
        String query = exchange.getQueryString();
        if (!query.isEmpty()) {
            n += 1 + query.length();
        }
        HeaderMap headers = exchange.getRequestHeaders();
        for (long f = headers.fastIterateNonEmpty(); f != -1L; f = headers.fiNextNonEmpty(f)) {
            HeaderValues values = headers.fiCurrent(f);
            int nameLength = values.getHeaderName().length();
            for (int i = 0; i < values.size(); i++) {
                n += nameLength + 2 + values.get(i).length() + 2;
            }
        }
        return n + 2;
    }

    /** An endpoint left a route: its idle backend connections are closed. */
    private void onRegistryEvent(RegistryEvent event) {
        client.onRegistryEvent(event);
        if (forwarder != null) {
            forwarder.onRegistryEvent(event);
        }
    }

    /** Endpoint addresses with a backend connection pool (both engines); for tests. */
    int poolCount() {
        return client.poolCount() + (forwarder == null ? 0 : forwarder.poolCount());
    }

    /** Closes the idle backend connections; requests in flight finish on theirs. */
    @Override
    public void close() {
        registry.removeListener(poolCleaner);
        client.close();
        if (forwarder != null) {
            forwarder.close();
        }
    }

    /** Builds a {@link RouterHandler}. Not thread-safe. */
    public static final class Builder {
        private final RouteRegistry registry;
        private ProxySettings settings = ProxySettings.defaults();
        private Health health;
        private RequestObserver observer = RequestObserver.none();
        private RouteLookup lookup;
        private ProxyEngine engine = ProxyEngine.FORWARDER;

        private Builder(RouteRegistry registry) {
            this.registry = Objects.requireNonNull(registry, "registry");
        }

        /** Proxy behaviour (default {@link ProxySettings#defaults()}). */
        public Builder settings(ProxySettings settings) {
            this.settings = Objects.requireNonNull(settings, "settings");
            return this;
        }

        /** The router's health, for the {@code User-Agent} check (default: always healthy). */
        public Builder health(Health health) {
            this.health = Objects.requireNonNull(health, "health");
            return this;
        }

        /**
         * Told about every finished request, on an I/O thread (default: nobody). It must not block: an access
         * log hands the record to its own writer thread.
         */
        public Builder observer(RequestObserver observer) {
            this.observer = Objects.requireNonNull(observer, "observer");
            return this;
        }

        /**
         * How a request's route is found (default: {@link RouteLookup#of(RouteRegistry)} over the registry).
         * Wrap the default to put your own endpoint selection around it.
         */
        public Builder routeLookup(RouteLookup lookup) {
            this.lookup = Objects.requireNonNull(lookup, "lookup");
            return this;
        }

        /** How plain requests are relayed (default {@link ProxyEngine#FORWARDER}). */
        public Builder engine(ProxyEngine engine) {
            this.engine = Objects.requireNonNull(engine, "engine");
            return this;
        }

        ProxyEngine engine() {
            return engine;
        }

        /** The handler. */
        public RouterHandler build() {
            if (health == null) {
                health = new Health();
                health.set(Health.State.HEALTHY);
            }
            return new RouterHandler(this);
        }
    }
}
