package io.cfrouter.nats;

import com.google.gson.Gson;
import io.cfrouter.core.RouteRegistration;
import io.cfrouter.registry.RouteRegistry;
import io.nats.client.Connection;
import io.nats.client.ConnectionListener;
import io.nats.client.Consumer;
import io.nats.client.Dispatcher;
import io.nats.client.ErrorListener;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Connects the routing table to NATS: applies {@code router.register}/{@code router.unregister}, answers
 * {@code router.greet} and {@code vcap.component.discover}, publishes {@code router.start} at start-up and
 * after every reconnect. Malformed messages are logged at warn and counted; nothing throws out of the
 * message handler. Messages are handled on one dispatcher thread, so they apply in the order published.
 */
public final class NatsAdapter implements AutoCloseable {

    private static final Logger LOGGER = LogManager.getLogger();
    private static final Gson GSON = new Gson();
    /** Generous pending limits: a burst of registrations must queue, not be dropped. */
    private static final long PENDING_MESSAGES = 2_000_000;
    private static final long PENDING_BYTES = 1L << 30;

    private final NatsSettings settings;
    private final RouteRegistry registry;
    private final Supplier<Map<String, Object>> componentInfo;

    private final AtomicLong reconnects = new AtomicLong();
    private final AtomicLong received = new AtomicLong();
    private final AtomicLong invalid = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private volatile Connection connection;
    private Dispatcher dispatcher;

    /**
     * @param settings connection and announcement settings
     * @param registry the table to keep up to date
     * @param componentInfo the {@code vcap.component.announce}/{@code discover} payload (type, index, host,
     *                      credentials, uuid, start, uptime), read each time it is sent
     */
    public NatsAdapter(NatsSettings settings, RouteRegistry registry, Supplier<Map<String, Object>> componentInfo) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.registry = Objects.requireNonNull(registry, "registry");
        this.componentInfo = Objects.requireNonNull(componentInfo, "componentInfo");
    }

    /**
     * Connects (trying each server, {@link NatsSettings#connectAttempts()} times in all), subscribes, and
     * publishes {@code router.start} and {@code vcap.component.announce}.
     *
     * @throws IOException when no server answered
     */
    public void start() throws IOException, InterruptedException {
        Options options = new Options.Builder()
                .servers(settings.servers().stream().map(NatsServerAddress::url).toArray(String[]::new))
                .connectionName("cf-router " + settings.routerId())
                .maxReconnects(-1)
                .reconnectWait(Duration.ofMillis(500))
                .connectionTimeout(Duration.ofSeconds(2))
                .connectionListener(new Listener())
                .errorListener(new Errors())
                .build();
        IOException last = null;
        for (int attempt = 1; attempt <= settings.connectAttempts(); attempt++) {
            try {
                connection = Nats.connect(options);
                break;
            } catch (IOException e) {
                last = e;
                LOGGER.warn("NATS connect attempt {}/{} to {} failed: {}", attempt, settings.connectAttempts(),
                        settings.servers(), e.getMessage());
                if (attempt < settings.connectAttempts()) {
                    TimeUnit.MILLISECONDS.sleep(500);
                }
            }
        }
        if (connection == null) {
            throw new IOException("no NATS server answered at " + settings.servers()
                    + (last == null ? "" : ": " + last.getMessage()), last);
        }
        dispatcher = connection.createDispatcher(this::onMessage);
        dispatcher.setPendingLimits(PENDING_MESSAGES, PENDING_BYTES);
        dispatcher.subscribe("router.register");
        dispatcher.subscribe("router.unregister");
        dispatcher.subscribe("router.greet");
        dispatcher.subscribe("vcap.component.discover");
        try {
            connection.flush(Duration.ofSeconds(5));
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IOException("NATS did not confirm the subscriptions within 5 s", e);
        }
        publishStart();
        publish("vcap.component.announce", componentInfo.get());
        LOGGER.info("Connected to NATS at {}", connection.getConnectedUrl());
    }

    private void onMessage(Message msg) {
        try {
            switch (msg.getSubject()) {
                case "router.register" -> apply(msg, true);
                case "router.unregister" -> apply(msg, false);
                case "router.greet" -> reply(msg, startMessage());
                case "vcap.component.discover" -> reply(msg, componentInfo.get());
                default -> LOGGER.debug("Ignoring message on {}", msg.getSubject());
            }
        } catch (RuntimeException e) {
            invalid.incrementAndGet();
            LOGGER.warn("Failed to handle a message on {}: {}", msg.getSubject(), e.toString());
        }
    }

    private void apply(Message msg, boolean register) {
        received.incrementAndGet();
        RegistryMessageDecoder.Result result = RegistryMessageDecoder.decode(msg.getData(),
                warning -> LOGGER.warn("{}: {}", msg.getSubject(), warning));
        if (!result.isValid()) {
            invalid.incrementAndGet();
            LOGGER.warn("Dropped invalid {} message: {}", msg.getSubject(), result.error());
            return;
        }
        RouteRegistration r = result.registration();
        if (register) {
            registry.register(r);
        } else {
            registry.unregister(r);
        }
    }

    private void reply(Message msg, Map<String, Object> payload) {
        String replyTo = msg.getReplyTo();
        if (replyTo == null || replyTo.isEmpty()) {
            LOGGER.debug("Ignoring {} without a reply subject", msg.getSubject());
            return;
        }
        connection.publish(replyTo, GSON.toJson(payload).getBytes(StandardCharsets.UTF_8));
    }

    /** The {@code router.start}/{@code router.greet} payload. */
    public Map<String, Object> startMessage() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", settings.routerId());
        m.put("hosts", new String[] {settings.routerHost()});
        m.put("minimumRegisterIntervalInSeconds", settings.minimumRegisterInterval().toSeconds());
        m.put("pruneThresholdInSeconds", settings.pruneThreshold().toSeconds());
        m.put("prunteThresholdInSeconds", settings.pruneThreshold().toSeconds());
        return m;
    }

    private void publishStart() {
        publish("router.start", startMessage());
    }

    private void publish(String subject, Map<String, Object> payload) {
        Connection c = connection;
        if (c != null) {
            c.publish(subject, GSON.toJson(payload).getBytes(StandardCharsets.UTF_8));
        }
    }

    /** The connection's figures, for {@code /varz}. */
    public NatsStats stats() {
        Connection c = connection;
        return new NatsStats(c != null && c.getStatus() == Connection.Status.CONNECTED, reconnects.get(),
                received.get(), invalid.get(), dropped.get());
    }

    /** Drains pending messages and closes the connection. */
    @Override
    public void close() throws InterruptedException {
        Connection c = connection;
        if (c != null) {
            try {
                c.drain(Duration.ofSeconds(2)).get(3, TimeUnit.SECONDS);
            } catch (Exception e) {
                LOGGER.debug("NATS drain did not finish cleanly: {}", e.toString());
            }
            c.close();
        }
    }

    private final class Listener implements ConnectionListener {
        @Override
        public void connectionEvent(Connection conn, Events type) {
            switch (type) {
                case DISCONNECTED -> {
                    LOGGER.warn("Disconnected from NATS");
                    if (settings.suspendPruningWhileDisconnected()) {
                        registry.suspendPruning();
                    }
                }
                case RECONNECTED -> {
                    reconnects.incrementAndGet();
                    LOGGER.info("Reconnected to NATS at {}", conn.getConnectedUrl());
                    if (settings.suspendPruningWhileDisconnected()) {
                        registry.resumePruning();
                    }
                    publishStart();
                }
                default -> LOGGER.debug("NATS connection event {}", type);
            }
        }
    }

    private final class Errors implements ErrorListener {
        @Override
        public void slowConsumerDetected(Connection conn, Consumer consumer) {
            long lost = consumer.getDroppedCount();
            dropped.set(lost);
            LOGGER.error("NATS slow consumer: {} messages dropped so far", lost);
        }

        @Override
        public void errorOccurred(Connection conn, String error) {
            LOGGER.warn("NATS error: {}", error);
        }

        @Override
        public void exceptionOccurred(Connection conn, Exception exp) {
            LOGGER.warn("NATS exception: {}", exp.toString());
        }
    }
}
