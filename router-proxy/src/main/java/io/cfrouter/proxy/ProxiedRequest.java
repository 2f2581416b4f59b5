package io.cfrouter.proxy;

import io.cfrouter.core.Endpoint;
import io.cfrouter.core.RequestRecord;
import io.cfrouter.registry.EndpointIterator;
import io.cfrouter.registry.Route;
import io.cfrouter.registry.RouteEndpoint;
import io.undertow.client.ClientConnection;
import io.undertow.server.DefaultResponseListener;
import io.undertow.server.ExchangeCompletionListener;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.handlers.proxy.ProxyCallback;
import io.undertow.server.handlers.proxy.ProxyClient;
import io.undertow.server.handlers.proxy.ProxyConnection;
import io.undertow.util.AttachmentKey;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.Methods;
import org.xnio.IoUtils;

import java.net.InetSocketAddress;

/**
 * One proxied request: its walk over the route's endpoints, its deadline, what went wrong, and the facts
 * for its {@link RequestRecord}. Lives on the exchange's I/O thread (every callback that touches it runs
 * there), so it needs no locking. It is also the {@link ProxyClient.ProxyTarget} handed to Undertow, so a
 * retry costs no allocation. {@link ForwardedRequest} extends it for the pass-through forwarder.
 */
class ProxiedRequest extends Deadlines.Entry
        implements ProxyClient.ProxyTarget, ExchangeCompletionListener, DefaultResponseListener {

    static final AttachmentKey<ProxiedRequest> KEY = AttachmentKey.create(ProxiedRequest.class);
    static final HttpString IDEMPOTENCY_KEY = new HttpString("Idempotency-Key");

    final RouterHandler handler;
    final HttpServerExchange exchange;
    final Route route;
    final String host;
    final String requestId;
    final String stickyInstance;
    final long startNanos;
    final long startMillis;
    final boolean upgrade;
    final boolean bodiless;
    /** The client's address and IP, read once (each read of the exchange's builds them anew). */
    final ClientAddress client;
    final String sourceIp;
    private final EndpointIterator endpoints;

    /** The endpoint of the current attempt, counted in flight; null between attempts. */
    RouteEndpoint current;
    /** The endpoint that answered (or was last tried), for the record and the trace headers. */
    Endpoint served;
    /** {@code served}'s {@code host:port}, built once per attempt (the pool's key, the record's, a header's). */
    String servedAddress = "";
    int attempts;
    boolean connectionLimit;

    String xForwardedFor = "";
    String xForwardedProto = "";
    long requestBytes;
    /** Bytes from the backend through an upgraded connection or raw tunnel (the exchange does not see them). */
    long tunnelResponseBytes;

    boolean timedOut;
    boolean headersReceived;
    boolean clientGone;
    /** The backend's response body broke off while being relayed: the client's connection closes for it. */
    boolean backendBroke;
    /** The status to log when it is not the exchange's (a raw tunnel); 0 for the exchange's. */
    int recordStatus;
    private boolean finished;

    /** The pending connection attempt, if any. */
    Dial dial;
    /** The backend connection of the current attempt, if any. */
    ClientConnection backend;
    boolean backendReused;
    /** A connection opened outside the pools (keep-alive race retry): closed when the request ends. */
    ClientConnection unpooled;

    /** Set by the failure that ended the last attempt, read by {@link #retryable()} and {@link #next()}. */
    private boolean retry;
    private boolean retrySameEndpointFresh;
    boolean freshConnection;
    private boolean markFailed;

    /** Undertow's callback for the whole request, captured on the first {@code getConnection}. */
    ProxyCallback<ProxyConnection> proxyCallback;

    ProxiedRequest(RouterHandler handler, HttpServerExchange exchange, Route route, String host, String requestId,
                   String stickyInstance, long startNanos, long startMillis, boolean upgrade) {
        this(handler, exchange, route, host, requestId, stickyInstance, startNanos, startMillis, upgrade,
                RouterHandler.isBodiless(exchange.getRequestHeaders()), ClientAddress.of(exchange));
    }

    /**
     * A request told its facts rather than reading them from an exchange: {@code exchange} is null for one of
     * the router's own path ({@link FastLane}), whose subclass answers for it where an exchange is asked.
     */
    ProxiedRequest(RouterHandler handler, HttpServerExchange exchange, Route route, String host, String requestId,
                   String stickyInstance, long startNanos, long startMillis, boolean upgrade, boolean bodiless,
                   ClientAddress client) {
        this.handler = handler;
        this.exchange = exchange;
        this.route = route;
        this.host = host;
        this.requestId = requestId;
        this.stickyInstance = stickyInstance;
        this.startNanos = startNanos;
        this.startMillis = startMillis;
        this.upgrade = upgrade;
        this.bodiless = bodiless;
        this.client = client;
        this.sourceIp = client.ip();
        this.endpoints = route.iterator(stickyInstance);
    }

    // ---- the walk over endpoints --------------------------------------------------------------------

    /** The target of the next attempt, or null when there is none (limit, deadline, client gone). */
    ProxyClient.ProxyTarget next() {
        if (current != null) {
            if (retrySameEndpointFresh && !timedOut && !clientGone) {
                retrySameEndpointFresh = false;
                freshConnection = true;
                return this;
            }
            if (markFailed) {
                current.markFailed();
            }
            current.release();
            current = null;
        }
        markFailed = false;
        freshConnection = false;
        if (timedOut || clientGone || attempts >= handler.settings.maxAttempts()) {
            return null;
        }
        RouteEndpoint next = endpoints.next();
        if (next == null) {
            connectionLimit = attempts == 0 && endpoints.connectionLimitReached();
            return null;
        }
        attempts++;
        current = next;
        served = next.endpoint();
        servedAddress = next.address();
        return this;
    }

    /** A connection attempt failed (refused, dial timeout): the endpoint is marked and another is tried. */
    void connectFailed() {
        markFailed = !timedOut && !clientGone;
        retry = true;
    }

    /** The request was not sent: always retried; a reused connection means the keep-alive race. */
    void sendFailed() {
        onFailure(true);
    }

    /** The connection failed after the request was sent and before the response headers arrived. */
    void responseFailed() {
        onFailure(false);
    }

    private void onFailure(boolean notSent) {
        retrySameEndpointFresh = false;
        if (timedOut || clientGone) {
            retry = false;
            markFailed = false;
            return;
        }
        boolean idempotent = idempotent();
        boolean bodiless = isBodiless();
        if (backendReused && !freshConnection && (notSent || idempotent || bodiless)) {
            // The keep-alive race: the backend closed an idle pooled connection as we reused it. Not the
            // endpoint's fault; try it again on a connection of our own.
            retry = true;
            retrySameEndpointFresh = true;
            markFailed = false;
        } else {
            retry = notSent || (idempotent && bodiless);
            markFailed = true;
        }
    }

    /**
     * No further attempt after the failure just recorded: the endpoint is marked failed if the failure was its
     * own, and released.
     */
    void giveUp() {
        if (current != null) {
            if (markFailed) {
                current.markFailed();
            }
            current.release();
            current = null;
        }
        markFailed = false;
    }

    /** Whether Undertow may retry after the failure just recorded (its idempotent-request predicate). */
    boolean retryable() {
        return retry && !timedOut && !clientGone;
    }

    /** Whether the request may be sent twice (RFC 9110 §9.2.2, or with an {@code Idempotency-Key}). */
    boolean idempotent() {
        HttpString m = exchange.getRequestMethod();
        return m.equals(Methods.GET) || m.equals(Methods.HEAD) || m.equals(Methods.OPTIONS)
                || m.equals(Methods.TRACE) || exchange.getRequestHeaders().contains(IDEMPOTENCY_KEY);
    }

    private boolean isBodiless() {
        return bodiless;
    }

    /**
     * Reading the backend's response body failed (reset, premature end): the endpoint is marked failed, so
     * the next requests go to others. Not when the client had gone first (its failure closed the backend).
     */
    void responseBodyFailed() {
        if (clientGone || backendBroke) {
            return;
        }
        backendBroke = true;
        RouteEndpoint endpoint = current;
        if (endpoint != null) {
            endpoint.markFailed();
        }
    }

    // ---- the deadline for response headers ------------------------------------------------------------

    void startDeadline() {
        handler.responseDeadlines.start(this, exchange.getIoThread());
    }

    /** The deadline passed before the response headers: end the current attempt; the answer is 502. */
    @Override
    void expire() {
        if (headersReceived || finished) {
            return;
        }
        timedOut = true;
        Dial pending = dial;
        if (pending != null) {
            pending.abandon();
        } else {
            // Closing a client connection may wait for the backend's FIN; answer now, as Undertow's own
            // request timeout does, rather than when the failure callback comes.
            IoUtils.safeClose(backend);
            if (!exchange.isResponseStarted()) {
                handler.routerAnswer(this);
            }
        }
    }

    void cancelDeadline() {
        cancel();
    }

    /** The backend's response headers arrived. */
    void onResponseHeaders() {
        headersReceived = true;
        cancelDeadline();
    }

    /** Undertow is about to send a default response: every attempt failed, or none could be made. */
    @Override
    public boolean handleDefaultResponse(HttpServerExchange exchange) {
        if (headersReceived || exchange.isResponseStarted()) {
            return false;
        }
        handler.routerAnswer(this);
        return true;
    }

    // ---- the end --------------------------------------------------------------------------------------

    @Override
    public void exchangeEvent(HttpServerExchange exchange, NextListener nextListener) {
        try {
            if (!clientGone && !backendBroke && recordStatus == 0
                    && (!exchange.getConnection().isOpen() || headersReceived && isCut(exchange))) {
                // The client's connection closed under the request: Undertow noticed it (and ended the exchange)
                // before a read or write of ours failed. A normal end runs these listeners before any close.
                clientGone = true;
            }
            if (exchange.getStatusCode() == 101) {
                // Upgraded: the request lasts as long as the connection, which closes when idle.
                exchange.getConnection().addCloseListener(connection -> finish());
                ClientIdleTimeout.start(exchange);
            } else {
                finish();
            }
        } finally {
            nextListener.proceed();
        }
    }

    /** Whether fewer body bytes went out than the response's {@code Content-Length} announced. */
    private static boolean isCut(HttpServerExchange exchange) {
        String length = exchange.getResponseHeaders().getFirst(Headers.CONTENT_LENGTH);
        if (length == null || exchange.getRequestMethod().equals(Methods.HEAD)) {
            return false;
        }
        try {
            return exchange.getResponseBytesSent() < Long.parseLong(length.trim());
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** Releases the endpoint and reports the request, once. */
    void finish() {
        if (finished) {
            return;
        }
        finished = true;
        cancelDeadline();
        if (current != null) {
            current.release();
            current = null;
        }
        if (unpooled != null && !unpooled.isUpgraded()) {
            IoUtils.safeClose(unpooled);
        }
        handler.report(this);
    }

    RequestRecord record() {
        HttpServerExchange ex = exchange;
        int status = clientGone ? 499 : recordStatus != 0 ? recordStatus : ex.getStatusCode();
        Endpoint e = served;
        String routerError = ex.getResponseHeaders().getFirst(RouterErrors.X_CF_ROUTER_ERROR);
        return new RequestRecord(host, startMillis, ex.getRequestMethod().toString(), RouterHandler.uriOf(ex),
                ex.getProtocol().toString(), status, requestBytes,
                ex.getResponseBytesSent() + tunnelResponseBytes,
                orEmpty(ex.getRequestHeaders().getFirst(Headers.REFERER)),
                orEmpty(ex.getRequestHeaders().getFirst(Headers.USER_AGENT)), client.ipAndPort(),
                servedAddress, xForwardedFor, xForwardedProto, requestId,
                System.nanoTime() - startNanos, e == null ? "" : e.appId(), e == null ? "" : e.instanceIndex(),
                e == null ? "" : e.instanceId(), e == null ? "" : e.component(), orEmpty(routerError));
    }

    /** {@code ip:port}, {@code [ip]:port} for IPv6; {@code ip} is {@link RouterHandler#clientIp}{@code (a)}. */
    static String clientAddress(InetSocketAddress a, String ip) {
        if (a == null) {
            return "";
        }
        return (ip.indexOf(':') >= 0 ? "[" + ip + "]" : ip) + ":" + a.getPort();
    }

    static String orEmpty(String s) {
        return s == null ? "" : s;
    }

    /** One connection attempt: guards Undertow's callback against late answers after a dial timeout. */
    final class Dial extends Deadlines.Entry implements ProxyCallback<ProxyConnection> {
        private boolean done;

        Dial() {
            handler.dialDeadlines.start(this, exchange.getIoThread());
        }

        /** The dial timeout. */
        @Override
        void expire() {
            if (!done) {
                failed(exchange);
            }
        }

        void abandon() {
            if (!done) {
                failed(exchange);
            }
        }

        private boolean end() {
            if (done) {
                return false;
            }
            done = true;
            cancel();
            dial = null;
            return true;
        }

        @Override
        public void completed(HttpServerExchange exchange, ProxyConnection connection) {
            if (!end()) {
                return; // too late: the pool takes the connection back when the exchange ends
            }
            handler.client.connected(ProxiedRequest.this, connection.getConnection());
            proxyCallback.completed(exchange,
                    new ProxyConnection(new BackendConnection(connection.getConnection(), ProxiedRequest.this), "/"));
        }

        @Override
        public void failed(HttpServerExchange exchange) {
            if (!end()) {
                return;
            }
            connectFailed();
            proxyCallback.failed(exchange);
        }

        @Override
        public void couldNotResolveBackend(HttpServerExchange exchange) {
            failed(exchange);
        }

        @Override
        public void queuedRequestFailed(HttpServerExchange exchange) {
            failed(exchange);
        }
    }
}
