package io.cfrouter.status;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import io.cfrouter.core.Endpoint;
import io.cfrouter.core.Health;
import io.cfrouter.core.RouteKey;
import io.cfrouter.core.Ticker;
import io.cfrouter.registry.RouteEndpoint;
import io.cfrouter.registry.RouteRegistry;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The status pages as one Undertow {@link HttpHandler}: {@code /health}, {@code /healthz}, and, behind
 * basic auth, {@code /varz} and {@code /routes}. Any other path is 404.
 */
public final class StatusHandler implements HttpHandler {

    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

    private final Health health;
    private final RouteRegistry registry;
    private final Ticker ticker;
    private final Supplier<Map<String, Object>> varz;
    private final byte[] expectedAuthorization;

    /**
     * @param settings credentials
     * @param health the router's health
     * @param registry the routing table, for {@code /routes}
     * @param ticker the registry's time source, for route TTLs
     * @param varz the {@code /varz} document, built afresh per request
     */
    public StatusHandler(StatusSettings settings, Health health, RouteRegistry registry, Ticker ticker,
                         Supplier<Map<String, Object>> varz) {
        this.health = Objects.requireNonNull(health, "health");
        this.registry = Objects.requireNonNull(registry, "registry");
        this.ticker = Objects.requireNonNull(ticker, "ticker");
        this.varz = Objects.requireNonNull(varz, "varz");
        String credentials = settings.user() + ":" + settings.pass();
        this.expectedAuthorization = ("Basic " + Base64.getEncoder()
                .encodeToString(credentials.getBytes(StandardCharsets.UTF_8))).getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) {
        switch (exchange.getRequestPath()) {
            case "/health" -> {
                text(exchange);
                if (health.isHealthy()) {
                    exchange.getResponseSender().send("ok\n");
                } else {
                    exchange.setStatusCode(503);
                    exchange.getResponseSender().send("503 Service Unavailable\n");
                }
            }
            case "/healthz" -> {
                text(exchange);
                exchange.getResponseSender().send("ok");
            }
            case "/varz" -> {
                if (authorized(exchange)) {
                    json(exchange, varz.get());
                }
            }
            case "/routes" -> {
                if (authorized(exchange)) {
                    json(exchange, routes());
                }
            }
            default -> {
                exchange.setStatusCode(404);
                text(exchange);
                exchange.getResponseSender().send("404 Not Found\n");
            }
        }
    }

    private Map<String, List<Map<String, Object>>> routes() {
        long now = ticker.read();
        Map<String, List<Map<String, Object>>> out = new LinkedHashMap<>();
        for (Map.Entry<RouteKey, List<RouteEndpoint>> route : registry.snapshot().entrySet()) {
            List<Map<String, Object>> endpoints = new ArrayList<>();
            for (RouteEndpoint re : route.getValue()) {
                Endpoint e = re.endpoint();
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("address", e.address());
                m.put("ttl", Math.max(0, (registry.staleAtNanos(route.getKey(), re) - now) / 1_000_000_000L));
                m.put("tags", e.tags());
                m.put("private_instance_id", e.instanceId());
                m.put("private_instance_index", e.instanceIndex());
                m.put("app", e.appId());
                endpoints.add(m);
            }
            out.put(route.getKey().key(), endpoints);
        }
        return out;
    }

    private boolean authorized(HttpServerExchange exchange) {
        String given = exchange.getRequestHeaders().getFirst(Headers.AUTHORIZATION);
        byte[] givenBytes = given == null ? new byte[0] : given.getBytes(StandardCharsets.UTF_8);
        if (MessageDigest.isEqual(givenBytes, expectedAuthorization)) {
            return true;
        }
        exchange.setStatusCode(401);
        exchange.getResponseHeaders().put(Headers.WWW_AUTHENTICATE, "Basic realm=\"cf-router\"");
        text(exchange);
        exchange.getResponseSender().send("401 Unauthorized\n");
        return false;
    }

    private static void text(HttpServerExchange exchange) {
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain; charset=utf-8");
    }

    private static void json(HttpServerExchange exchange, Object body) {
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/json");
        exchange.getResponseSender().send(GSON.toJson(body));
    }
}
