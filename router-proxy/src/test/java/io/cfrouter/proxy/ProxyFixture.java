package io.cfrouter.proxy;

import io.cfrouter.core.Endpoint;
import io.cfrouter.core.RequestRecord;
import io.cfrouter.core.RouteKey;
import io.cfrouter.registry.RouteRegistry;
import io.cfrouter.testsupport.Await;
import io.undertow.Undertow;
import io.undertow.server.HttpHandler;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.UnaryOperator;

/** A router (registry, RouterHandler on a ProxyServer listener on port 0) and its backends, for ITs. */
final class ProxyFixture implements AutoCloseable {

    final RouteRegistry registry;
    final RouterHandler handler;
    final ProxyListener server;
    final int port;
    final ConcurrentLinkedQueue<RequestRecord> records = new ConcurrentLinkedQueue<>();
    private final List<AutoCloseable> backends = new ArrayList<>();

    ProxyFixture() {
        this(ProxySettings.defaults(), 0);
    }

    ProxyFixture(ProxySettings settings, int maxConns) {
        this(settings, maxConns, h -> h);
    }

    ProxyFixture(ProxySettings settings, int maxConns, UnaryOperator<HttpHandler> wrap) {
        this(settings, maxConns, wrap, Duration.ofSeconds(30), engine());
    }

    ProxyFixture(ProxySettings settings, int maxConns, UnaryOperator<HttpHandler> wrap, ProxyEngine engine) {
        this(settings, maxConns, wrap, Duration.ofSeconds(30), engine);
    }

    ProxyFixture(ProxySettings settings, int maxConns, UnaryOperator<HttpHandler> wrap, Duration idleTimeout) {
        this(settings, maxConns, wrap, idleTimeout, engine());
    }

    ProxyFixture(ProxySettings settings, int maxConns, UnaryOperator<HttpHandler> wrap, Duration idleTimeout,
                 ProxyEngine engine) {
        registry = RouteRegistry.builder().maxConnsPerEndpoint(maxConns).build();
        handler = RouterHandler.builder(registry).settings(settings).observer(records::add).engine(engine).build();
        ProxyServer builder = ProxyServer.builder(wrap.apply(handler)).host("127.0.0.1").port(0).ioThreads(2)
                .maxRequestHeaderBytes(settings.maxRequestHeaderBytes()).idleTimeout(idleTimeout);
        if (!fastLane()) {
            builder.fastLane(null); // else the listener has it when the handler is the RouterHandler itself
        }
        server = builder.build();
        server.start();
        port = server.port();
    }

    /** Whether the router's own path serves plain requests: {@code -Dcfrouter.proxy.fastLane=false} turns it off. */
    static boolean fastLane() {
        return !"false".equals(System.getProperty("cfrouter.proxy.fastLane"));
    }

    /** The engine under test: {@code -Dcfrouter.proxy.engine=undertow|forwarder}, else the builder's default. */
    static ProxyEngine engine() {
        String name = System.getProperty("cfrouter.proxy.engine", "");
        return name.isEmpty() ? RouterHandler.builder(RouteRegistry.builder().build()).engine()
                : ProxyEngine.valueOf(name.toUpperCase(java.util.Locale.ROOT));
    }

    static int port(Undertow server) {
        return ((InetSocketAddress) server.getListenerInfo().get(0).getAddress()).getPort();
    }

    /** Starts an Undertow backend on port 0 with {@code handler}. */
    int backend(HttpHandler handler) {
        return backend(Undertow.builder(), handler);
    }

    int backend(Undertow.Builder builder, HttpHandler handler) {
        Undertow backend = builder.setServerOption(io.undertow.UndertowOptions.MAX_ENTITY_SIZE, -1L)
                .addHttpListener(0, "127.0.0.1").setIoThreads(1).setWorkerThreads(4)
                .setHandler(handler).build();
        backend.start();
        backends.add(backend::stop);
        return port(backend);
    }

    void closeLater(AutoCloseable c) {
        backends.add(c);
    }

    void register(String uri, int port) {
        register(uri, port, "", "", "");
    }

    void register(String uri, int port, String appId, String instanceId, String index) {
        registry.register(RouteKey.parse(uri), new Endpoint("127.0.0.1", port, appId, instanceId, index,
                Map.of("component", "c1"), Duration.ZERO, null));
    }

    /** The record of the request with {@code uri}, waiting for it to be reported. */
    RequestRecord record(String uri) {
        return Await.value(Duration.ofSeconds(10), "a record for " + uri,
                () -> records.stream().filter(r -> r.uri().equals(uri)).findFirst().orElse(null),
                r -> r != null);
    }

    @Override
    public void close() throws Exception {
        server.stop();
        handler.close();
        for (AutoCloseable c : backends) {
            c.close();
        }
    }
}
