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
        send(exchange, 503, "connection_limit_reached",
                "Requested route ('" + host + "') has reached the connection limit.");
    }

    static void endpointFailure(HttpServerExchange exchange) {
        send(exchange, 502, "endpoint_failure", "Registered endpoint failed to handle the request.");
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
        String body = "400 " + StatusCodes.getReason(400) + ": " + message + "\n";
        return ("HTTP/1.1 400 " + StatusCodes.getReason(400) + "\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\n"
                + X_CONTENT_TYPE_OPTIONS + ": nosniff\r\n"
                + X_CF_ROUTER_ERROR + ": " + MALFORMED_REQUEST + "\r\n"
                + "Content-Length: " + body.length() + "\r\n"
                + "Connection: close\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII);
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
        exchange.getResponseSender().send(status + " " + StatusCodes.getReason(status) + ": " + message + "\n");
    }
}
