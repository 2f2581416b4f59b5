package io.cfrouter.nats;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.nats.client.Connection;
import io.nats.client.ConnectionListener;
import io.nats.client.Dispatcher;
import io.nats.client.Message;
import io.nats.client.Options;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Keeps an application's routes registered with every router on a NATS cluster, as a Cloud Foundry
 * platform would: publishes {@code router.register} for one endpoint ({@code host:port}) and its uris at
 * the interval the routers ask for, at once when a router starts, and {@code router.unregister} on
 * {@link #close()}.
 *
 * <p>The interval: until a router has said otherwise, {@link Builder#defaultInterval(Duration)}
 * (20 s). At start-up the registrar sends {@code router.greet}; every router answering it, and every
 * {@code router.start} seen later, gives its {@code minimumRegisterIntervalInSeconds}; the registrar uses the
 * smallest, so that every router is satisfied.
 *
 * <pre>{@code
 * RouteRegistrar registrar = RouteRegistrar.builder()
 *         .servers("nats://127.0.0.1:4222")
 *         .endpoint("10.0.0.5", 8080)
 *         .uri("app.example.com")
 *         .appId("my-app")
 *         .build();
 * registrar.start();
 * // ... serve ...
 * registrar.close(); // unregisters
 * }</pre>
 *
 * <p>Thread-safety: {@link #start()} and {@link #close()} are called once each, by the owner;
 * {@link #registerNow()}, {@link #interval()} and {@link #registrationsSent()} may be called from any thread.
 * The registrar's own thread only publishes, and never throws: problems are logged and it carries on.
 */
public final class RouteRegistrar implements AutoCloseable {

    private static final Logger LOGGER = LogManager.getLogger();
    private static final Gson GSON = new Gson();

    private final List<String> servers;
    private final Connection givenConnection;
    private final byte[] payload;
    private final String description;
    private final Duration defaultInterval;
    private final int connectAttempts;
    /** minimumRegisterIntervalInSeconds by router id. */
    private final Map<String, Duration> askedIntervals = new ConcurrentHashMap<>();
    private final AtomicLong sent = new AtomicLong();

    private final Object lock = new Object();
    private Connection connection;
    private Dispatcher dispatcher;
    private ScheduledExecutorService scheduler;
    private ScheduledFuture<?> next;
    private boolean closed;

    private RouteRegistrar(Builder b) {
        this.servers = List.copyOf(b.servers);
        this.givenConnection = b.connection;
        this.defaultInterval = b.defaultInterval;
        this.connectAttempts = b.connectAttempts;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("host", b.host);
        m.put("port", b.port);
        m.put("uris", List.copyOf(b.uris));
        if (!b.appId.isEmpty()) {
            m.put("app", b.appId);
        }
        if (!b.instanceId.isEmpty()) {
            m.put("private_instance_id", b.instanceId);
        }
        if (!b.instanceIndex.isEmpty()) {
            m.put("private_instance_index", b.instanceIndex);
        }
        if (!b.tags.isEmpty()) {
            m.put("tags", Map.copyOf(b.tags));
        }
        if (b.staleThreshold != null) {
            m.put("stale_threshold_in_seconds", b.staleThreshold.toSeconds());
        }
        this.payload = GSON.toJson(m).getBytes(StandardCharsets.UTF_8);
        this.description = b.host + ":" + b.port + " " + b.uris;
    }

    /** A builder; {@link Builder#endpoint}, at least one {@link Builder#uri} and a connection are required. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Connects (unless given a connection), subscribes to {@code router.start}, sends {@code router.greet}
     * and the first {@code router.register}, and schedules the next ones. Returns once the server has the
     * subscriptions, without waiting for greet answers; they adjust the interval when they arrive.
     *
     * @throws IOException when its own connection could not be opened (the message names the servers)
     * @throws IllegalStateException when called twice or after {@link #close()}
     */
    public void start() throws IOException, InterruptedException {
        synchronized (lock) {
            if (closed || scheduler != null) {
                throw new IllegalStateException("start: already " + (closed ? "closed" : "started"));
            }
            scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "cf-router-registrar");
                t.setDaemon(true);
                return t;
            });
        }
        Connection c = givenConnection;
        if (c == null) {
            Options options = new Options.Builder()
                    .servers(servers.toArray(String[]::new))
                    .noRandomize()
                    .connectionName("cf-router registrar " + description)
                    .maxReconnects(-1)
                    .reconnectWait(Duration.ofMillis(500))
                    .connectionTimeout(Duration.ofSeconds(2))
                    .connectionListener(this::connectionEvent)
                    .build();
            c = NatsAdapter.connect(options, servers.stream().map(NatsAdapter::withoutCredentials).toList(),
                    connectAttempts);
        }
        Dispatcher d = c.createDispatcher(this::onMessage);
        String inbox = c.createInbox();
        d.subscribe(NatsAdapter.START);
        d.subscribe(inbox);
        try {
            // Once start() returns, a router.start published by anyone must reach us: wait for the
            // server to have the subscriptions.
            c.flush(Duration.ofSeconds(5));
        } catch (java.util.concurrent.TimeoutException e) {
            LOGGER.warn("NATS did not confirm the registrar's subscriptions within 5 s; carrying on");
        }
        synchronized (lock) {
            connection = c;
            dispatcher = d;
        }
        c.publish(NatsAdapter.GREET, inbox, new byte[0]);
        LOGGER.info("Registering {} every {} until a router asks otherwise", description, interval());
        registerNow();
    }

    /**
     * Publishes {@code router.register} now and restarts the interval from now. Does nothing before
     * {@link #start()} or after {@link #close()}.
     */
    public void registerNow() {
        synchronized (lock) {
            if (closed || connection == null) {
                return;
            }
            if (next != null) {
                next.cancel(false);
            }
            publish(NatsAdapter.REGISTER);
            long nanos = interval().toNanos();
            next = scheduler.schedule(this::registerNow, nanos, TimeUnit.NANOSECONDS);
        }
    }

    /**
     * The interval now in use: the smallest a router asked for, or the default when none has.
     *
     * @return a positive duration
     */
    public Duration interval() {
        return askedIntervals.values().stream().min(Duration::compareTo).orElse(defaultInterval);
    }

    /**
     * How many {@code router.register} messages were published (handed to the client) so far.
     *
     * @return a count that only grows
     */
    public long registrationsSent() {
        return sent.get();
    }

    private void publish(String subject) {
        try {
            connection.publish(subject, payload);
            if (subject.equals(NatsAdapter.REGISTER)) {
                sent.incrementAndGet();
            }
        } catch (RuntimeException e) {
            LOGGER.warn("Could not publish {} for {}: {}", subject, description, e.toString());
        }
    }

    private void onMessage(Message msg) {
        try {
            String router = routerAsking(msg.getData());
            if (router == null) {
                return;
            }
            if (NatsAdapter.START.equals(msg.getSubject())) {
                LOGGER.info("Router {} started: registering {} at once", router, description);
                registerNow();
            } else {
                // A greet answer: reschedule only if it shortened the interval.
                registerLaterWithin(interval());
            }
        } catch (RuntimeException e) {
            LOGGER.warn("Ignoring a {} message: {}", msg.getSubject(), e.toString());
        }
    }

    /** Notes the interval a router asks for; returns its id, or null when the message is not usable. */
    private String routerAsking(byte[] data) {
        JsonElement root = JsonParser.parseString(new String(data, StandardCharsets.UTF_8));
        if (!root.isJsonObject()) {
            LOGGER.warn("Ignoring a router announcement that is not a JSON object");
            return null;
        }
        JsonObject o = root.getAsJsonObject();
        String id = o.has("id") && o.get("id").isJsonPrimitive() ? o.get("id").getAsString() : "unknown";
        JsonElement seconds = o.get("minimumRegisterIntervalInSeconds");
        if (seconds != null && seconds.isJsonPrimitive() && seconds.getAsJsonPrimitive().isNumber()) {
            long s = seconds.getAsLong();
            if (s > 0) {
                Duration before = interval();
                askedIntervals.put(id, Duration.ofSeconds(s));
                if (!interval().equals(before)) {
                    LOGGER.info("Registering {} every {} as router {} asks", description, interval(), id);
                }
            } else {
                LOGGER.warn("Router {} asks for an interval of {} s (expected: > 0); ignored", id, s);
            }
        }
        return id;
    }

    private void registerLaterWithin(Duration interval) {
        synchronized (lock) {
            if (closed || next == null) {
                return;
            }
            if (next.getDelay(TimeUnit.NANOSECONDS) > interval.toNanos() && next.cancel(false)) {
                next = scheduler.schedule(this::registerNow, interval.toNanos(), TimeUnit.NANOSECONDS);
            }
        }
    }

    private void connectionEvent(Connection conn, ConnectionListener.Events type) {
        if (type == ConnectionListener.Events.RESUBSCRIBED) {
            // The routers may have pruned us while the link was down.
            LOGGER.info("Reconnected to NATS: registering {} at once", description);
            registerNow();
            ReconnectCheck.confirmOrReconnect(conn, ReconnectCheck.DEFAULT_TIMEOUT, "registrar " + description);
        } else if (type == ConnectionListener.Events.DISCONNECTED) {
            LOGGER.warn("Disconnected from NATS; registrations of {} resume on reconnect", description);
        }
    }

    /**
     * Stops registering, publishes {@code router.unregister}, flushes (up to 2 s) and closes its own
     * connection (a given connection stays open; only this registrar's subscriptions end). Idempotent.
     */
    @Override
    public void close() throws InterruptedException {
        Connection c;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            if (next != null) {
                next.cancel(false);
            }
            if (scheduler != null) {
                scheduler.shutdownNow();
            }
            c = connection;
            if (c == null) {
                return;
            }
            publish(NatsAdapter.UNREGISTER);
        }
        try {
            c.closeDispatcher(dispatcher);
            c.flush(Duration.ofSeconds(2));
        } catch (TimeoutException | RuntimeException e) {
            // e.g. a given connection its owner closed first: nothing more can be sent.
            LOGGER.warn("router.unregister for {} may not have reached NATS: {}", description, e.toString());
        }
        if (givenConnection == null) {
            c.close();
        }
        LOGGER.info("Unregistered {}", description);
    }

    /**
     * Configures a {@link RouteRegistrar}. Not thread-safe; {@link #build()} may be called more than once.
     */
    public static final class Builder {
        private final List<String> servers = new ArrayList<>();
        private Connection connection;
        private String host;
        private int port;
        private final List<String> uris = new ArrayList<>();
        private String appId = "";
        private String instanceId = "";
        private String instanceIndex = "";
        private final Map<String, String> tags = new LinkedHashMap<>();
        private Duration staleThreshold;
        private Duration defaultInterval = Duration.ofSeconds(20);
        private int connectAttempts = 3;

        private Builder() {
        }

        /**
         * NATS servers for the registrar's own connection ({@code nats://[user:pass@]host:port}), tried in
         * order; the connection reconnects for ever.
         */
        public Builder servers(String... urls) {
            for (String url : urls) {
                Objects.requireNonNull(url, "url");
                if (url.isBlank()) {
                    throw new IllegalArgumentException("servers: empty URL (expected: nats://host:port)");
                }
                servers.add(url);
            }
            return this;
        }

        /** The same, from a list. */
        public Builder servers(List<String> urls) {
            return servers(urls.toArray(String[]::new));
        }

        /**
         * An open connection to use instead of the registrar's own; it is not closed by the registrar, and
         * it is not re-registered on reconnect (only the connection's owner hears of reconnects).
         */
        public Builder connection(Connection connection) {
            this.connection = Objects.requireNonNull(connection, "connection");
            return this;
        }

        /** The backend address the routers should send traffic to. */
        public Builder endpoint(String host, int port) {
            Objects.requireNonNull(host, "host");
            if (host.isBlank()) {
                throw new IllegalArgumentException("host: empty (expected: an IP or a host name)");
            }
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("port: " + port + " (expected: 1-65535)");
            }
            this.host = host;
            this.port = port;
            return this;
        }

        /** A route, {@code host[/path]}; may be called several times. */
        public Builder uri(String uri) {
            Objects.requireNonNull(uri, "uri");
            io.cfrouter.core.RouteKey.parse(uri); // the routers would refuse it: say so now
            uris.add(uri);
            return this;
        }

        /** Application id ({@code app}; the routers send it as {@code X-CF-ApplicationID}). */
        public Builder appId(String appId) {
            this.appId = Objects.requireNonNull(appId, "appId");
            return this;
        }

        /** Instance id ({@code private_instance_id}; the sticky-session cookie value). */
        public Builder instanceId(String instanceId) {
            this.instanceId = Objects.requireNonNull(instanceId, "instanceId");
            return this;
        }

        /** Instance index ({@code private_instance_index}). */
        public Builder instanceIndex(String instanceIndex) {
            this.instanceIndex = Objects.requireNonNull(instanceIndex, "instanceIndex");
            return this;
        }

        /** A tag; {@code component} groups the routers' statistics. */
        public Builder tag(String name, String value) {
            tags.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
            return this;
        }

        /** This endpoint's own staleness threshold ({@code stale_threshold_in_seconds}); whole seconds. */
        public Builder staleThreshold(Duration threshold) {
            Objects.requireNonNull(threshold, "threshold");
            if (threshold.isNegative()) {
                throw new IllegalArgumentException("staleThreshold: " + threshold + " (expected: >= 0)");
            }
            this.staleThreshold = threshold;
            return this;
        }

        /** The interval used until a router asks for one (default 20 s, the platform's usual). */
        public Builder defaultInterval(Duration interval) {
            Objects.requireNonNull(interval, "interval");
            if (interval.isNegative() || interval.isZero()) {
                throw new IllegalArgumentException("defaultInterval: " + interval + " (expected: > 0)");
            }
            this.defaultInterval = interval;
            return this;
        }

        /** Connect attempts at start-up for the registrar's own connection (default 3). */
        public Builder connectAttempts(int attempts) {
            if (attempts < 1) {
                throw new IllegalArgumentException("connectAttempts: " + attempts + " (expected: >= 1)");
            }
            this.connectAttempts = attempts;
            return this;
        }

        /**
         * Builds the registrar.
         *
         * @throws IllegalStateException when the endpoint, the uris or the connection are missing
         */
        public RouteRegistrar build() {
            if (host == null) {
                throw new IllegalStateException("endpoint: missing (expected: endpoint(host, port))");
            }
            if (uris.isEmpty()) {
                throw new IllegalStateException("uris: empty (expected: at least one uri(...))");
            }
            if (connection == null && servers.isEmpty()) {
                throw new IllegalStateException("servers: empty (expected: servers(...) or connection(...))");
            }
            return new RouteRegistrar(this);
        }
    }
}
