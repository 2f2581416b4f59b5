package io.cfrouter.proxy.examples;

import io.cfrouter.core.Endpoint;
import io.cfrouter.core.RouteKey;
import io.cfrouter.proxy.ProxyExtension;
import io.cfrouter.proxy.ProxyListener;
import io.cfrouter.proxy.ProxyServer;
import io.cfrouter.proxy.RouteLookup;
import io.cfrouter.proxy.RouterHandler;
import io.cfrouter.registry.Route;
import io.cfrouter.registry.RouteRegistry;
import io.cfrouter.testsupport.HttpExchange;
import io.undertow.Undertow;
import io.undertow.server.HttpHandler;
import io.undertow.util.HttpString;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Examples of the proxy's seams (an extension loaded with ServiceLoader, a handler in front, a route lookup
 * of your own) that docs can quote, between the tag markers: compiled and run by the build.
 */
class ExtensionExamplesIT {

    private final List<AutoCloseable> servers = new ArrayList<>();
    private RouteRegistry registry;
    private int stable;
    private int canary;

    @BeforeEach
    void backends() {
        stable = start(exchange -> exchange.getResponseSender().send("stable "
                + exchange.getRequestHeaders().get("X-Extension-Trail")));
        canary = start(exchange -> exchange.getResponseSender().send("canary"));
        registry = RouteRegistry.builder().build();
        registry.register(RouteKey.parse("app.example.com"), Endpoint.of("127.0.0.1", stable));
        registry.register(RouteKey.parse("canary.app.internal"), Endpoint.of("127.0.0.1", canary));
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable server : servers) {
            server.close();
        }
    }

    private int start(HttpHandler handler) {
        Undertow server = Undertow.builder().addHttpListener(0, "127.0.0.1").setHandler(handler).build();
        server.start();
        servers.add(server::stop);
        return ((InetSocketAddress) server.getListenerInfo().get(0).getAddress()).getPort();
    }

    private int listen(HttpHandler root) {
        // tag::listener[]
        ProxyListener server = ProxyServer.builder(root).host("127.0.0.1").port(0).build();
        server.start();
        // end::listener[]
        servers.add(server);
        return server.port();
    }

    @Test
    void shouldRunAnEmbeddersHandlerBeforeTheProxy() {
        // tag::before[]
        RouterHandler router = RouterHandler.builder(registry).build();
        HttpString apiKey = new HttpString("X-Api-Key");
        HttpHandler guarded = exchange -> {
            if (!exchange.getRequestHeaders().contains(apiKey)) {
                exchange.setStatusCode(403);
                exchange.endExchange();
                return;
            }
            router.handleRequest(exchange);
        };
        // end::before[]
        int port = listen(guarded);
        assertThat(HttpExchange.get(port, "app.example.com", "/").status()).isEqualTo(403);
        assertThat(HttpExchange.get(port, "app.example.com", "/", "X-Api-Key: k").bodyText()).startsWith("stable");
        router.close();
    }

    @Test
    void shouldLetAnEmbedderChooseTheRoute() {
        // tag::lookup[]
        RouteLookup registryLookup = RouteLookup.of(registry);
        HttpString canaryHeader = new HttpString("X-Canary");
        RouteLookup canaryFirst = (exchange, host, path) -> {
            if (exchange.getRequestHeaders().contains(canaryHeader)) {
                Route canaryRoute = registry.lookup("canary.app.internal", path);
                if (canaryRoute != null) {
                    return canaryRoute;
                }
            }
            return registryLookup.lookup(exchange, host, path);
        };
        RouterHandler router = RouterHandler.builder(registry).routeLookup(canaryFirst).build();
        // end::lookup[]
        int port = listen(router);
        assertThat(HttpExchange.get(port, "app.example.com", "/").bodyText()).startsWith("stable");
        assertThat(HttpExchange.get(port, "app.example.com", "/", "X-Canary: 1").bodyText()).isEqualTo("canary");
        router.close();
    }

    @Test
    void shouldLoadExtensionsFromTheClasspathInOrder() {
        // tag::spi[]
        RouterHandler router = RouterHandler.builder(registry).build();
        List<ProxyExtension> extensions = ProxyExtension.load(getClass().getClassLoader());
        HttpHandler root = ProxyExtension.wrapAll(extensions, router);
        // end::spi[]
        assertThat(extensions).extracting(e -> e.getClass().getSimpleName())
                .containsExactly("RequestTagExtension", "TokenAuthExtension");
        int port = listen(root);
        HttpExchange.Response denied = HttpExchange.get(port, "app.example.com", "/");
        assertThat(denied.status()).isEqualTo(401);
        HttpExchange.Response allowed = HttpExchange.get(port, "app.example.com", "/", "X-Auth-Token: let-me-in");
        assertThat(allowed.status()).isEqualTo(200);
        assertThat(allowed.bodyText()).isEqualTo("stable [tag]");
        router.close();
    }
}
