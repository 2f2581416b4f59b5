package io.cfrouter.proxy;

import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.StatusCodes;

import java.nio.charset.StandardCharsets;

/** The responses the router makes itself (behaviour reference §3.2). */
final class RouterErrors {

    static final HttpString X_CF_ROUTER_ERROR = new HttpString("X-Cf-RouterError");
    private static final HttpString X_CONTENT_TYPE_OPTIONS = new HttpString("X-Content-Type-Options");
    private static final String MALFORMED_REQUEST = "malformed_request";
    static final String ENDPOINT_FAILURE = "endpoint_failure";
    static final String CONNECTION_LIMIT = "connection_limit_reached";
    private static final String ENDPOINT_FAILURE_MESSAGE = "Registered endpoint failed to handle the request.";

    private RouterErrors() {
    }

    static void unknownRoute(HttpServerExchange exchange, String host) {
        exchange.getResponseHeaders().put(Headers.CACHE_CONTROL, "no-cache, no-store");
        send(exchange, 404, "unknown_route", "Requested route ('" + host + "') does not exist.");
    }

    static void emptyHost(HttpServerExchange exchange) {
        send(exchange, 400, "empty_host", "Request had empty Host header");
    }

    static void connectionLimit(HttpServerExchange exchange, String host) {
        send(exchange, 503, CONNECTION_LIMIT, connectionLimitMessage(host));
    }

    static void endpointFailure(HttpServerExchange exchange) {
        send(exchange, 502, ENDPOINT_FAILURE, ENDPOINT_FAILURE_MESSAGE);
    }

    private static String connectionLimitMessage(String host) {
        return "Requested route ('" + host + "') has reached the connection limit.";
    }

    /** Framing the router will not guess at (request smuggling): 400, and the connection closes after it. */
    static void malformedRequest(HttpServerExchange exchange, String message) {
        exchange.setPersistent(false);
        send(exchange, 400, MALFORMED_REQUEST, message);
    }

    /**
     * The bytes of a whole {@code 400} answer with {@code Connection: close}, for when the exchange's own
     * response channel cannot be used (the request body turned out malformed while it was being relayed).
     */
    static byte[] rawBadRequest(String message) {
        return raw(400, MALFORMED_REQUEST, message, "Connection: close\r\n");
    }

    /** The 502 of {@link #endpointFailure}, as bytes, with {@code extraFields} (whole lines) in its head. */
    static byte[] rawEndpointFailure(String extraFields) {
        return raw(502, ENDPOINT_FAILURE, ENDPOINT_FAILURE_MESSAGE, extraFields);
    }

    /** The 503 of {@link #connectionLimit}, as bytes, with {@code extraFields} (whole lines) in its head. */
    static byte[] rawConnectionLimit(String host, String extraFields) {
        return raw(503, CONNECTION_LIMIT, connectionLimitMessage(host), extraFields);
    }

    /** A whole answer as {@link #send} makes it, for a connection the router writes to itself. */
    private static byte[] raw(int status, String error, String message, String extraFields) {
        String body = body(status, message);
        return ("HTTP/1.1 " + status + " " + StatusCodes.getReason(status) + "\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\n"
                + X_CONTENT_TYPE_OPTIONS + ": nosniff\r\n"
                + X_CF_ROUTER_ERROR + ": " + error + "\r\n"
                + "Content-Length: " + body.length() + "\r\n"
                + extraFields + "\r\n" + body).getBytes(StandardCharsets.ISO_8859_1);
    }

    static void headersTooLarge(HttpServerExchange exchange) {
        exchange.setPersistent(false);
        send(exchange, 431, "max-request-size-exceeded", "Request headers exceed the configured maximum.");
    }

    /** Answers {@code "<code> <reason>: <message>\n"}; if the response has started, just ends it. */
    static void send(HttpServerExchange exchange, int status, String error, String message) {
        if (exchange.isResponseStarted()) {
            exchange.endExchange();
            return;
        }
        exchange.setStatusCode(status);
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain; charset=utf-8");
        exchange.getResponseHeaders().put(X_CONTENT_TYPE_OPTIONS, "nosniff");
        exchange.getResponseHeaders().put(X_CF_ROUTER_ERROR, error);
        exchange.getResponseSender().send(body(status, message));
    }

    /** An answer's body: {@code "<code> <reason>: <message>\n"}. */
    private static String body(int status, String message) {
        return status + " " + StatusCodes.getReason(status) + ": " + message + "\n";
    }
}
