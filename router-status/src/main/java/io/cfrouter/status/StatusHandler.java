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

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The status pages as one Undertow {@link HttpHandler}, for embedding in a server of one's own
 * ({@link StatusServer} is the ready-made one):
 * <ul>
 *   <li>{@code /health}: {@code 200 ok\n} while {@link Health#isHealthy()}, else {@code 503} (starting or
 *       draining);</li>
 *   <li>{@code /healthz}: always {@code 200 ok} (deprecated; kept for old monitors);</li>
 *   <li>{@code /varz} and {@code /routes}, behind basic auth: the statistics document and the routing
 *       table as JSON; a missing or wrong credential gets {@code 401} with {@code WWW-Authenticate};</li>
 *   <li>anything else: {@code 404}.</li>
 * </ul>
 * Thread-safe. {@code /varz} and {@code /routes} are built on a worker thread, never an I/O thread.
 */
public final class StatusHandler implements HttpHandler {

    /** The realm announced in {@code WWW-Authenticate}. */
    public static final String REALM = "cf-router";

    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

    private final Health health;
    private final RouteRegistry registry;
    private final Ticker ticker;
    private final Supplier<Map<String, Object>> varz;
    private final BasicAuth auth;

    /**
     * @param settings the credentials ({@code user} and {@code pass} are taken as they are; generate
     *                 missing ones first with {@link StatusSettings#withGeneratedCredentials()})
     * @param health the router's health, for {@code /health}
     * @param registry the routing table, for {@code /routes}
     * @param ticker the registry's time source, for route TTLs
     * @param varz the {@code /varz} document, built afresh for each request on a worker thread
     */
    public StatusHandler(StatusSettings settings, Health health, RouteRegistry registry, Ticker ticker,
                         Supplier<Map<String, Object>> varz) {
        Objects.requireNonNull(settings, "settings");
        this.health = Objects.requireNonNull(health, "health");
        this.registry = Objects.requireNonNull(registry, "registry");
        this.ticker = Objects.requireNonNull(ticker, "ticker");
        this.varz = Objects.requireNonNull(varz, "varz");
        this.auth = new BasicAuth(settings.user(), settings.pass());
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) {
        switch (exchange.getRequestPath()) {
            case "/health" -> {
                noStore(exchange);
                if (health.isHealthy()) {
                    text(exchange, 200, "ok\n");
                } else {
                    text(exchange, 503, "503 Service Unavailable\n");
                }
            }
            case "/healthz" -> {
                noStore(exchange);
                text(exchange, 200, "ok");
            }
            case "/varz" -> authorizedJson(exchange, varz::get);
            case "/routes" -> authorizedJson(exchange, this::routes);
            default -> text(exchange, 404, "404 Not Found\n");
        }
    }

    private void authorizedJson(HttpServerExchange exchange, Supplier<Object> body) {
        if (exchange.isInIoThread()) {
            // Building the document reads /proc and walks the whole routing table: not for an I/O thread.
            exchange.dispatch(this);
            return;
        }
        if (!auth.accepts(exchange.getRequestHeaders().getFirst(Headers.AUTHORIZATION))) {
            exchange.getResponseHeaders().put(Headers.WWW_AUTHENTICATE, "Basic realm=\"" + REALM + "\"");
            text(exchange, 401, "401 Unauthorized\n");
            return;
        }
        noStore(exchange);
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/json");
        exchange.getResponseSender().send(GSON.toJson(body.get()));
    }

    private Map<String, List<Map<String, Object>>> routes() {
        Map<RouteKey, List<RouteEndpoint>> snapshot = registry.snapshot();
        long now = ticker.read();
        Map<String, List<Map<String, Object>>> out = new LinkedHashMap<>();
        for (Map.Entry<RouteKey, List<RouteEndpoint>> route : snapshot.entrySet()) {
            List<Map<String, Object>> endpoints = new ArrayList<>(route.getValue().size());
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

    private static void noStore(HttpServerExchange exchange) {
        exchange.getResponseHeaders().put(Headers.CACHE_CONTROL, "no-store");
    }

    private static void text(HttpServerExchange exchange, int status, String body) {
        exchange.setStatusCode(status);
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain; charset=utf-8");
        exchange.getResponseSender().send(body);
    }
}
