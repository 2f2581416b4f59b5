package io.cfrouter.status;

import io.cfrouter.core.Health;
import io.cfrouter.core.Ticker;
import io.cfrouter.registry.RouteRegistry;
import io.undertow.Undertow;
import io.undertow.UndertowOptions;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The router's status server: its own Undertow listener on {@link StatusSettings#port()} serving a
 * {@link StatusHandler} ({@code /health}, {@code /healthz}, {@code /varz}, {@code /routes}), with the
 * {@code /varz} document assembled from the router's identity, the process, the {@link RouterStatistics},
 * the routing table and any extra sections (e.g. the NATS connection's figures).
 *
 * <p>Credentials left empty in the settings are generated once, when the server is built; they are
 * part of {@link #componentInfo()}, which the NATS adapter publishes for {@code vcap.component.discover}.
 *
 * <pre>{@code
 * StatusServer status = StatusServer.builder(settings, health, registry)
 *         .ticker(ticker).index(0).uuid(routerId).advertisedHost("10.0.0.5")
 *         .extraVarz(() -> Map.of("nats", natsFigures()))
 *         .build();
 * RequestObserver observer = status.statistics(); // hand it to the proxy
 * status.start();
 * }</pre>
 *
 * <p>Thread-safety: every method may be called from any thread; {@link #start()} and {@link #close()}
 * are meant to be called once each, by the owner.
 */
public final class StatusServer implements AutoCloseable {

    /** How long {@link #close()} waits for open connections before cutting them. */
    private static final int CLOSE_TIMEOUT_MILLIS = 1000;

    private final StatusSettings settings;
    private final RouteRegistry registry;
    private final Ticker ticker;
    private final RouterStatistics statistics;
    private final ProcessFigures process;
    private final int index;
    private final String uuid;
    private final String advertisedHost;
    private final Instant startTime;
    private final long startNanos;
    private final List<Supplier<? extends Map<String, ?>>> extraVarz;
    private final StatusHandler handler;

    private volatile Undertow server;
    private volatile int port;

    private StatusServer(Builder b) {
        this.settings = b.settings.withGeneratedCredentials();
        this.registry = b.registry;
        this.ticker = b.ticker;
        this.statistics = b.statistics != null ? b.statistics : new RouterStatistics(b.ticker);
        this.process = new ProcessFigures(b.ticker);
        this.index = b.index;
        this.uuid = b.uuid != null ? b.uuid : UUID.randomUUID().toString();
        this.advertisedHost = b.advertisedHost != null ? b.advertisedHost : settings.host();
        this.startTime = b.startTime != null ? b.startTime : Instant.now();
        this.startNanos = b.ticker.read();
        this.extraVarz = List.copyOf(b.extraVarz);
        this.handler = new StatusHandler(settings, b.health, registry, ticker, this::varz);
        this.port = settings.port();
    }

    /**
     * A builder for a server with {@code settings}, answering {@code /health} from {@code health} and
     * {@code /routes} from {@code registry}.
     */
    public static Builder builder(StatusSettings settings, Health health, RouteRegistry registry) {
        return new Builder(settings, health, registry);
    }

    /**
     * Binds the listener and starts serving.
     *
     * @throws IOException when the port cannot be bound (the message names the address)
     * @throws IllegalStateException when already started
     */
    public synchronized void start() throws IOException {
        if (server != null) {
            throw new IllegalStateException("status server already started");
        }
        Undertow undertow = Undertow.builder()
                .addHttpListener(settings.port(), settings.host())
                .setIoThreads(1)
                .setWorkerThreads(2)
                // Without a bound, stopping waits for every kept-alive monitoring connection to go away.
                .setServerOption(UndertowOptions.SHUTDOWN_TIMEOUT, CLOSE_TIMEOUT_MILLIS)
                .setHandler(handler)
                .build();
        try {
            undertow.start();
        } catch (RuntimeException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new IOException("status.port: cannot listen on " + settings.host() + ":" + settings.port()
                    + ": " + cause.getMessage(), cause);
        }
        port = ((InetSocketAddress) undertow.getListenerInfo().get(0).getAddress()).getPort();
        server = undertow;
    }

    /**
     * The port: the configured one until {@link #start()} has bound it, then the bound one (which differs
     * when 0 was configured). {@link #componentInfo()} announces it, so a router can announce itself
     * before its status server listens.
     */
    public int port() {
        return port;
    }

    /** The statistics behind {@code /varz}: the proxy's {@link io.cfrouter.core.RequestObserver}. */
    public RouterStatistics statistics() {
        return statistics;
    }

    /** The handler this server serves, e.g. to mount it elsewhere as well. */
    public StatusHandler handler() {
        return handler;
    }

    /** The basic-auth user and password in force (generated ones included). */
    public List<String> credentials() {
        return List.of(settings.user(), settings.pass());
    }

    /**
     * The component-discovery document ({@code vcap.component.announce} and {@code discover}):
     * {@code type}, {@code index}, {@code host} ({@code ip:port}), {@code credentials}, {@code uuid},
     * {@code start} and {@code uptime}. A fresh, mutable map.
     */
    public Map<String, Object> componentInfo() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", "Router");
        m.put("index", index);
        m.put("host", advertisedHost + ":" + port);
        m.put("credentials", credentials());
        m.put("uuid", uuid);
        m.put("start", startTime.toString());
        m.put("uptime", uptime(TimeUnit.NANOSECONDS.toSeconds(ticker.read() - startNanos)));
        return m;
    }

    /** The whole {@code /varz} document, built now. */
    public Map<String, Object> varz() {
        Map<String, Object> m = componentInfo();
        m.put("num_cores", Runtime.getRuntime().availableProcessors());
        m.put("mem", process.residentKb());
        m.put("cpu", process.cpuPercent());
        m.putAll(statistics.snapshot());
        m.put("urls", registry.routeCount());
        m.put("droplets", registry.endpointCount());
        long now = ticker.read();
        long last = registry.lastUpdateNanos();
        // No change since start-up: the table is as old as the router.
        long since = last == Long.MIN_VALUE ? now - startNanos : now - last;
        m.put("ms_since_last_registry_update", TimeUnit.NANOSECONDS.toMillis(Math.max(0, since)));
        for (Supplier<? extends Map<String, ?>> extra : extraVarz) {
            m.putAll(extra.get());
        }
        return m;
    }

    /** Stops the listener, cutting connections still open after a second. Idempotent. */
    @Override
    public synchronized void close() {
        Undertow undertow = server;
        if (undertow != null) {
            undertow.stop();
            server = null;
        }
    }

    /** {@code seconds} as {@code 0d:3h:22m:31s}. */
    static String uptime(long seconds) {
        return (seconds / 86400) + "d:" + (seconds / 3600) % 24 + "h:" + (seconds / 60) % 60 + "m:" + seconds % 60 + "s";
    }

    /** Builds a {@link StatusServer}. Not thread-safe. */
    public static final class Builder {
        private final StatusSettings settings;
        private final Health health;
        private final RouteRegistry registry;
        private Ticker ticker = Ticker.system();
        private RouterStatistics statistics;
        private int index;
        private String uuid;
        private String advertisedHost;
        private Instant startTime;
        private final List<Supplier<? extends Map<String, ?>>> extraVarz = new ArrayList<>();

        private Builder(StatusSettings settings, Health health, RouteRegistry registry) {
            this.settings = Objects.requireNonNull(settings, "settings");
            this.health = Objects.requireNonNull(health, "health");
            this.registry = Objects.requireNonNull(registry, "registry");
        }

        /** The time source; must be the registry's, as TTLs and the last update are its readings. */
        public Builder ticker(Ticker ticker) {
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /** The statistics to report; by default a fresh {@link RouterStatistics} on the same ticker. */
        public Builder statistics(RouterStatistics statistics) {
            this.statistics = Objects.requireNonNull(statistics, "statistics");
            return this;
        }

        /** The router's index ({@code index}); default 0. */
        public Builder index(int index) {
            if (index < 0) {
                throw new IllegalArgumentException("index: " + index + " (expected: >= 0)");
            }
            this.index = index;
            return this;
        }

        /** The router's id ({@code uuid}); default a random UUID. */
        public Builder uuid(String uuid) {
            this.uuid = Objects.requireNonNull(uuid, "uuid");
            return this;
        }

        /** The IP others reach the status port on ({@code host} is {@code ip:port}); default the listen host. */
        public Builder advertisedHost(String advertisedHost) {
            this.advertisedHost = Objects.requireNonNull(advertisedHost, "advertisedHost");
            return this;
        }

        /** When the router started ({@code start}); default when the server is built. */
        public Builder startTime(Instant startTime) {
            this.startTime = Objects.requireNonNull(startTime, "startTime");
            return this;
        }

        /**
         * Adds top-level sections to {@code /varz}, read for each request (e.g. {@code {"nats": {...}}});
         * they must be quick, thread-safe and must not throw. Later sections win on a clashing key.
         */
        public Builder extraVarz(Supplier<? extends Map<String, ?>> section) {
            extraVarz.add(Objects.requireNonNull(section, "section"));
            return this;
        }

        /** The server, not yet started. Generates missing credentials. */
        public StatusServer build() {
            return new StatusServer(this);
        }
    }
}
