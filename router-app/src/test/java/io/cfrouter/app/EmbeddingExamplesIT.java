package io.cfrouter.app;

import com.google.gson.Gson;
import com.google.gson.JsonParser;
import com.typesafe.config.ConfigFactory;
import io.cfrouter.core.Endpoint;
import io.cfrouter.core.Health;
import io.cfrouter.core.LoadBalancing;
import io.cfrouter.core.RouteKey;
import io.cfrouter.core.Ticker;
import io.cfrouter.nats.RouteRegistrar;
import io.cfrouter.proxy.ProxyExtension;
import io.cfrouter.proxy.ProxyListener;
import io.cfrouter.proxy.ProxyServer;
import io.cfrouter.proxy.ProxySettings;
import io.cfrouter.proxy.RouterHandler;
import io.cfrouter.registry.EndpointIterator;
import io.cfrouter.registry.RegistryEvent;
import io.cfrouter.registry.Route;
import io.cfrouter.registry.RouteEndpoint;
import io.cfrouter.registry.RouteRegistry;
import io.cfrouter.testsupport.Await;
import io.cfrouter.testsupport.FreePort;
import io.cfrouter.testsupport.HttpExchange;
import io.cfrouter.testsupport.NatsServerProcess;
import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.undertow.Undertow;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.StatusCodes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The code of docs/embedding.md, run for real. Each {@code // snippet:NAME} ... {@code // /snippet}
 * region is copied verbatim into the markdown; DocsTest fails when the two differ.
 */
class EmbeddingExamplesIT {

    private static final Duration DEADLINE = Duration.ofSeconds(10);

    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    @Test
    void shouldLookUpARegisteredRouteWithTheRegistryAlone() {
        // snippet:registryAlone
        RouteRegistry registry = RouteRegistry.builder()
                .staleThreshold(Duration.ofSeconds(120))
                .loadBalancing(LoadBalancing.ROUND_ROBIN)
                .build();

        registry.register(RouteKey.parse("orders.example.com/api"),
                new Endpoint("10.0.0.5", 8080, "orders-app-guid", "orders-0", "0",
                        Map.of("component", "orders"), Duration.ZERO, null));

        // Host case and port are ignored; the path matches by whole segments; the query is ignored.
        Route route = registry.lookup("Orders.Example.com:443", "/api/v1/list?page=2");

        EndpointIterator candidates = route.iterator(null);
        RouteEndpoint chosen = candidates.next(); // counted in flight until released
        try {
            String address = chosen.endpoint().address(); // "10.0.0.5:8080": send the request there
        } finally {
            chosen.release();
        }
        // /snippet

        assertThat(route.key().key()).isEqualTo("orders.example.com/api");
        assertThat(chosen.endpoint().address()).isEqualTo("10.0.0.5:8080");
        assertThat(chosen.inFlight()).isZero();
        assertThat(registry.lookup("orders.example.com", "/apix")).isNull();
        assertThat(registry.routeCount()).isEqualTo(1);
    }

    @Test
    void shouldPruneOnTheEmbeddersOwnSchedulerAndTellListeners() {
        AtomicLong now = new AtomicLong();
        Ticker ticker = now::get;
        RouteRegistry registry = RouteRegistry.builder().ticker(ticker).build();

        // snippet:listener
        List<String> gone = new CopyOnWriteArrayList<>();
        registry.addListener(event -> {
            // Called after the change is visible, on the thread that made it: be quick, never block.
            if (event.type() == RegistryEvent.Type.ENDPOINT_PRUNED) {
                gone.add(event.route() + " " + event.endpoint().address());
            }
        });
        // /snippet

        registry.register(RouteKey.parse("orders.example.com"), Endpoint.of("10.0.0.5", 8080));
        ScheduledExecutorService pruner = startPruning(registry, ticker, Duration.ofMillis(10));
        toClose.add(pruner::shutdownNow);

        now.addAndGet(Duration.ofSeconds(119).toNanos());
        assertThat(registry.lookup("orders.example.com", "/")).isNotNull();

        now.addAndGet(Duration.ofSeconds(2).toNanos());
        // Listeners hear of a change after lookups can see it: wait for the listener, not the lookup.
        Await.until(DEADLINE, "the listener to hear of the pruned endpoint", () -> !gone.isEmpty());
        assertThat(gone).containsExactly("orders.example.com 10.0.0.5:8080");
        assertThat(registry.lookup("orders.example.com", "/")).isNull();
    }

    // snippet:pruneOnYourScheduler
    static ScheduledExecutorService startPruning(RouteRegistry registry, Ticker ticker, Duration every) {
        ScheduledExecutorService pruner = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "route-pruner");
            thread.setDaemon(true);
            return thread;
        });
        pruner.scheduleWithFixedDelay(() -> {
            try {
                registry.pruneStale(ticker.read()); // the same ticker the registry was built with
            } catch (RuntimeException e) {
                // Log and carry on: an exception escaping here would cancel every later sweep.
            }
        }, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
        return pruner;
    }
    // /snippet

    @Test
    void shouldProxyThroughTheRouterHandlerBehindTheEmbeddersOwnHandler() {
        Backend backend = startBackend();

        // snippet:proxyInYourServer
        RouteRegistry registry = RouteRegistry.builder().build();
        Health health = new Health(); // STARTING: the User-Agent health check answers 503
        RouterHandler router = RouterHandler.builder(registry)
                .settings(ProxySettings.defaults())
                .health(health)
                .build();

        // ProxyServer: an Undertow listener with the options the proxy needs (URI not decoded, ...)
        ProxyListener server = ProxyServer.builder(new RequireBearerToken("let-me-in", router))
                .host("127.0.0.1")
                .port(0) // 0: any free port
                .build();
        server.start();
        health.set(Health.State.HEALTHY);

        registry.register(RouteKey.parse("orders.example.com"), Endpoint.of("127.0.0.1", backend.port()));
        // /snippet
        toClose.add(router);
        toClose.add(server::stop);
        int port = server.port();

        HttpExchange.Response refused = HttpExchange.get(port, "orders.example.com", "/list");
        assertThat(refused.status()).isEqualTo(401);
        assertThat(backend.requests).isEmpty();

        HttpExchange.Response proxied = HttpExchange.get(port, "orders.example.com", "/list",
                "Authorization: Bearer let-me-in");
        assertThat(proxied.status()).isEqualTo(200);
        assertThat(proxied.bodyText()).isEqualTo("orders backend saw /list");
        assertThat(backend.requests).containsExactly("/list authorization=null");

        HttpExchange.Response unknown = HttpExchange.get(port, "nobody.example.com", "/",
                "Authorization: Bearer let-me-in");
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.header("X-Cf-RouterError")).contains("unknown_route");
    }

    // snippet:authHandler
    /** Lets a request through to {@code next} only with the right bearer token. */
    static final class RequireBearerToken implements HttpHandler {
        private final String expected;
        private final HttpHandler next;

        RequireBearerToken(String token, HttpHandler next) {
            this.expected = "Bearer " + token;
            this.next = next;
        }

        @Override
        public void handleRequest(HttpServerExchange exchange) throws Exception {
            // Runs on an I/O thread, like the router: decide without blocking (or dispatch first).
            if (!expected.equals(exchange.getRequestHeaders().getFirst(Headers.AUTHORIZATION))) {
                exchange.setStatusCode(StatusCodes.UNAUTHORIZED);
                exchange.getResponseSender().send("401 Unauthorized\n");
                return;
            }
            exchange.getRequestHeaders().remove(Headers.AUTHORIZATION); // the backend need not see it
            next.handleRequest(exchange);
        }
    }
    // /snippet

    @Test
    void shouldPutAProxyExtensionInFrontOfTheRouter() {
        Backend backend = startBackend();
        RouteRegistry registry = RouteRegistry.builder().build();
        registry.register(RouteKey.parse("orders.example.com"), Endpoint.of("127.0.0.1", backend.port()));
        RouterHandler router = RouterHandler.builder(registry).build();
        toClose.add(router);

        HttpHandler handler = ProxyExtension.wrapAll(List.of(new BearerTokenExtension()), router);
        Undertow server = Undertow.builder().addHttpListener(0, "127.0.0.1").setHandler(handler).build();
        server.start();
        toClose.add(server::stop);
        int port = ((InetSocketAddress) server.getListenerInfo().get(0).getAddress()).getPort();

        assertThat(HttpExchange.get(port, "orders.example.com", "/list").status()).isEqualTo(401);
        assertThat(HttpExchange.get(port, "orders.example.com", "/list", "Authorization: Bearer let-me-in").status())
                .isEqualTo(200);
    }

    // snippet:proxyExtension
    /**
     * The same check in the stock router: a public class like this one, with a no-argument constructor, in
     * a jar whose META-INF/services/io.cfrouter.proxy.ProxyExtension file names it.
     */
    public static final class BearerTokenExtension implements ProxyExtension {
        private final String token = System.getenv().getOrDefault("ROUTER_BEARER_TOKEN", "let-me-in");

        @Override
        public HttpHandler wrap(HttpHandler next) {
            return new RequireBearerToken(token, next);
        }
    }
    // /snippet

    @Test
    void shouldKeepAnApplicationRegisteredWithTheRouteRegistrar() throws Exception {
        NatsServerProcess natsServer = NatsServerProcess.start();
        toClose.add(natsServer);
        Backend backend = startBackend();
        String natsUrl = natsServer.url();

        // snippet:routeRegistrar
        RouteRegistrar registrar = RouteRegistrar.builder()
                .servers(natsUrl)
                .endpoint("127.0.0.1", backend.port())
                .uri("orders.example.com")
                .appId("orders-app-guid")
                .instanceId("orders-0")
                .build();
        registrar.start(); // greets the routers, registers, and keeps registering until closed
        // /snippet
        toClose.add(registrar);

        Router router = startRouter(natsServer);
        HttpExchange.Response proxied = Await.value(DEADLINE, "the route registered after router.start",
                () -> HttpExchange.get(router.proxyPort(), "orders.example.com", "/list"),
                response -> response.status() == 200);
        assertThat(proxied.bodyText()).isEqualTo("orders backend saw /list");

        // snippet:routeRegistrarClose
        registrar.close(); // unregisters at once
        // /snippet
        Await.until(DEADLINE, "the route to go after router.unregister",
                () -> HttpExchange.get(router.proxyPort(), "orders.example.com", "/list").status() == 404);
    }

    @Test
    void shouldKeepAnApplicationRegisteredThroughRawNatsMessages() throws Exception {
        NatsServerProcess natsServer = NatsServerProcess.start();
        toClose.add(natsServer);
        Backend backend = startBackend();

        // The application starts first: its greet goes unanswered, so it falls back to its default
        // interval; the router's router.start must then make it register at once.
        RouteAnnouncer announcer = new RouteAnnouncer(natsServer.url(), "127.0.0.1", backend.port(),
                "orders.example.com");
        toClose.add(() -> {
            if (announcer.nats.getStatus() != Connection.Status.CLOSED) {
                announcer.close();
            }
        });
        assertThat(announcer.intervalSeconds).isEqualTo(20);

        Router router = startRouter(natsServer);

        HttpExchange.Response proxied = Await.value(DEADLINE, "the route announced after router.start",
                () -> HttpExchange.get(router.proxyPort(), "orders.example.com", "/list"),
                response -> response.status() == 200);
        assertThat(proxied.bodyText()).isEqualTo("orders backend saw /list");

        announcer.close();
        Await.until(DEADLINE, "the route to go after router.unregister",
                () -> HttpExchange.get(router.proxyPort(), "orders.example.com", "/list").status() == 404);
    }

    // snippet:registrar
    /** Keeps one route registered with every router on a NATS cluster, until closed. */
    static final class RouteAnnouncer implements AutoCloseable {
        private final Connection nats;
        private final byte[] message;
        private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
        final long intervalSeconds;

        RouteAnnouncer(String natsUrl, String host, int port, String uri)
                throws IOException, InterruptedException {
            nats = Nats.connect(new Options.Builder().server(natsUrl).maxReconnects(-1).build()); // never give up
            message = new Gson().toJson(Map.of("host", host, "port", port, "uris", List.of(uri)))
                    .getBytes(StandardCharsets.UTF_8);

            // A router starting up: register at once, without waiting for the next tick.
            Dispatcher dispatcher = nats.createDispatcher(start -> nats.publish("router.register", message));
            dispatcher.subscribe("router.start");

            // Ask the routers how often to register; without an answer, every 20 s is well inside the
            // default 120 s prune threshold.
            Message greeting = nats.request("router.greet", new byte[0], Duration.ofSeconds(2));
            long interval = greeting == null ? 20 : JsonParser.parseString(
                            new String(greeting.getData(), StandardCharsets.UTF_8))
                    .getAsJsonObject().get("minimumRegisterIntervalInSeconds").getAsLong();
            intervalSeconds = Math.max(1, interval);
            timer.scheduleAtFixedRate(() -> nats.publish("router.register", message),
                    0, intervalSeconds, TimeUnit.SECONDS);
        }

        @Override
        public void close() throws InterruptedException, TimeoutException {
            timer.shutdownNow();
            nats.publish("router.unregister", message);
            nats.flush(Duration.ofSeconds(2)); // make sure the unregister left before closing
            nats.close();
        }
    }
    // /snippet

    /** The whole router on free ports, listening at once (no start-up delay). */
    private Router startRouter(NatsServerProcess natsServer) throws Exception {
        int[] ports = FreePort.find(2);
        Router router = new Router(ConfigLoader.bind(ConfigFactory.parseString("""
                host = "127.0.0.1"
                port = %d
                status { port = %d, user = admin, pass = secret }
                nats = [{ host = "127.0.0.1", port = %d }]
                start_response_delay_interval = 0s
                """.formatted(ports[0], ports[1], natsServer.port()))
                .withFallback(ConfigFactory.defaultReference()).resolve()));
        toClose.add(router);
        router.start();
        return router;
    }

    /** A real backend on a free port that records what it saw. */
    private Backend startBackend() {
        List<String> requests = new CopyOnWriteArrayList<>();
        Undertow server = Undertow.builder()
                .addHttpListener(0, "127.0.0.1")
                .setHandler(exchange -> {
                    requests.add(exchange.getRequestURI() + " authorization="
                            + exchange.getRequestHeaders().getFirst(Headers.AUTHORIZATION));
                    exchange.getResponseSender().send("orders backend saw " + exchange.getRequestURI());
                })
                .build();
        server.start();
        toClose.add(server::stop);
        return new Backend(((InetSocketAddress) server.getListenerInfo().get(0).getAddress()).getPort(), requests);
    }

    private record Backend(int port, List<String> requests) {
    }
}
