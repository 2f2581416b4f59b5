package io.cfrouter.nats;

import io.cfrouter.core.Ticker;
import io.cfrouter.registry.Route;
import io.cfrouter.registry.RouteRegistry;
import io.nats.client.Connection;
import io.nats.client.ConnectionListener;
import io.nats.client.Nats;
import io.nats.client.Options;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/** A real registry behind a real adapter, on a time source the test drives, for the integration tests. */
final class RouterUnderTest implements AutoCloseable {

    static final String ROUTER_ID = "0-5f0b3c1e-0000-4000-8000-000000000001";
    static final Duration STALE_THRESHOLD = Duration.ofSeconds(120);

    final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    final Ticker ticker = nanos::get;
    final RouteRegistry registry;
    final NatsAdapter adapter;

    RouterUnderTest(List<NatsServerAddress> servers, Duration registerInterval, boolean suspendPruning) {
        this(servers, registerInterval, suspendPruning, NatsAdapter.PENDING_MESSAGES);
    }

    RouterUnderTest(List<NatsServerAddress> servers, Duration registerInterval, boolean suspendPruning,
                    long pendingMessages) {
        registry = RouteRegistry.builder().ticker(ticker).staleThreshold(STALE_THRESHOLD).build();
        adapter = new NatsAdapter(new NatsSettings(servers, ROUTER_ID, "10.1.2.3", registerInterval, STALE_THRESHOLD,
                suspendPruning, 2), registry, RouterUnderTest::componentInfo, pendingMessages);
    }

    static RouterUnderTest on(int... ports) {
        return new RouterUnderTest(addresses(ports), Duration.ofSeconds(20), true);
    }

    static List<NatsServerAddress> addresses(int... ports) {
        return java.util.Arrays.stream(ports).mapToObj(p -> new NatsServerAddress("127.0.0.1", p, "", "")).toList();
    }

    static Map<String, Object> componentInfo() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", "Router");
        m.put("index", 0);
        m.put("host", "10.1.2.3:8082");
        m.put("credentials", List.of("status-user", "status-secret"));
        m.put("uuid", ROUTER_ID);
        m.put("start", "2026-01-01T00:00:00Z");
        m.put("uptime", "0d:0h:0m:1s");
        return m;
    }

    RouterUnderTest start() throws IOException, InterruptedException {
        adapter.start();
        return this;
    }

    void advance(Duration d) {
        nanos.addAndGet(d.toNanos());
    }

    Route lookup(String host) {
        return registry.lookup(host, "/");
    }

    @Override
    public void close() throws InterruptedException {
        adapter.close();
    }

    /** A platform component's connection: reconnects quickly and for ever. */
    static Connection platform(String... urls) throws IOException, InterruptedException {
        // The platform's own connection goes through the outages too, and jnats can come out of a reconnect
        // unable to send (see ReconnectCheck): without the check the test, not the router, would stop talking.
        return Nats.connect(new Options.Builder().servers(urls).maxReconnects(-1)
                .reconnectWait(Duration.ofMillis(20))
                .connectionListener((conn, type) -> {
                    if (type == ConnectionListener.Events.RESUBSCRIBED) {
                        ReconnectCheck.confirmOrReconnect(conn, ReconnectCheck.DEFAULT_TIMEOUT, "test platform");
                    }
                })
                .build());
    }

    static byte[] register(String host, int port, String... uris) {
        StringBuilder json = new StringBuilder("{\"host\":\"").append(host).append("\",\"port\":").append(port)
                .append(",\"uris\":[");
        for (int i = 0; i < uris.length; i++) {
            json.append(i == 0 ? "\"" : ",\"").append(uris[i]).append('"');
        }
        return json.append("]}").toString().getBytes(StandardCharsets.UTF_8);
    }
}
