package io.cfrouter.nats;

import com.google.gson.Gson;
import io.cfrouter.core.RouteRegistration;
import io.cfrouter.registry.RouteRegistry;
import io.nats.client.Connection;
import io.nats.client.ConnectionListener;
import io.nats.client.Dispatcher;
import io.nats.client.ErrorListener;
import io.nats.client.Message;
import io.nats.client.NUID;
import io.nats.client.Nats;
import io.nats.client.Options;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Connects the routing table to NATS (behaviour reference §1): applies {@code router.register} and
 * {@code router.unregister}, answers {@code router.greet} and {@code vcap.component.discover}, and publishes
 * {@code router.start} at start-up and after every reconnect, and {@code vcap.component.announce} at
 * start-up.
 *
 * <p>Messages are handled on one dispatcher thread, so registrations apply in the order they were
 * published. A malformed message is logged at warn with the reason and counted; nothing throws out of the
 * handler. The subscription's pending limits are generous; should the router still fall behind, every
 * message the client drops is counted ({@link NatsStats#droppedMessages()}) and logged.
 *
 * <p>Once started, the connection reconnects for ever, trying the servers in the order given. While it is
 * down, and when {@link NatsSettings#suspendPruningWhileDisconnected()} is set, the registry's pruning is
 * suspended. On reconnect {@code router.start} is published again so that clients re-register at once, and
 * the connection is checked end to end (a message to a subject of the router's own must come back through
 * the dispatcher within {@link #PROBE_TIMEOUT}, else the connection is forced to reconnect); only then do
 * every staleness clock restart and pruning resume.
 *
 * <p>Thread-safety: {@link #start()} and {@link #close()} are called once each, by the owner; the other
 * methods may be called from any thread.
 */
public final class NatsAdapter implements AutoCloseable {

    private static final Logger LOGGER = LogManager.getLogger();
    private static final Gson GSON = new Gson();
    /*
     * A burst of registrations must queue, not be dropped: a register message is ~200 bytes, so these
     * allow about a million messages in flight before the client drops anything.
     */
    static final long PENDING_MESSAGES = 1_000_000;
    static final long PENDING_BYTES = 512L << 20;
    private static final Duration RECONNECT_WAIT = Duration.ofMillis(500);
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
    private static final Duration MONITOR_INTERVAL = Duration.ofSeconds(10);
    /** How long a reconnected connection has to bring our own probe back before it is forced to reconnect. */
    static final Duration PROBE_TIMEOUT = Duration.ofSeconds(3);
    private static final Duration PROBE_POLL = Duration.ofMillis(50);
    private static final Pattern CREDENTIALS = Pattern.compile("([a-zA-Z][a-zA-Z0-9+.-]*://)[^@/\\s\\[\\],]*@");

    static final String REGISTER = "router.register";
    static final String UNREGISTER = "router.unregister";
    static final String GREET = "router.greet";
    static final String START = "router.start";
    static final String DISCOVER = "vcap.component.discover";
    static final String ANNOUNCE = "vcap.component.announce";

    private final NatsSettings settings;
    private final RouteRegistry registry;
    private final Supplier<Map<String, Object>> componentInfo;
    private final long pendingMessages;
    private final Consumer<String> decoderWarnings = warning -> LOGGER.warn("Route message partly ignored: {}", warning);

    private final AtomicLong reconnects = new AtomicLong();
    private final AtomicLong received = new AtomicLong();
    private final AtomicLong invalid = new AtomicLong();
    /** Dropped messages already reported in the log. */
    private final AtomicLong droppedReported = new AtomicLong();
    /** {@link System#nanoTime()} when the connection went down; 0 while it is up. */
    private final AtomicLong disconnectedSince = new AtomicLong();
    /**
     * A subject only this router listens on, on the same dispatcher as the route subjects: a reconnect
     * counts as done only once a message published to it has come back (see {@link #probe()}).
     */
    private final String probeSubject = "_INBOX.cf-router-probe." + NUID.nextGlobal();
    /** The latest probe sent, and the latest one that came back. */
    private final AtomicLong probeSent = new AtomicLong();
    private final AtomicLong probeReceived = new AtomicLong();
    /** False from a disconnect until the reconnected connection has passed the probe. */
    private volatile boolean verified = true;
    private volatile Connection connection;
    private volatile Dispatcher dispatcher;
    private volatile boolean closing;
    private ScheduledExecutorService monitor;

    /**
     * Creates an adapter; nothing happens until {@link #start()}.
     *
     * @param settings connection and announcement settings
     * @param registry the table to keep up to date
     * @param componentInfo the {@code vcap.component.announce} and {@code vcap.component.discover} payload
     *                      (type, index, host, credentials, uuid, start, uptime), read each time it is sent;
     *                      called on NATS threads, so it must be thread-safe and must not block
     */
    public NatsAdapter(NatsSettings settings, RouteRegistry registry, Supplier<Map<String, Object>> componentInfo) {
        this(settings, registry, componentInfo, PENDING_MESSAGES);
    }

    /** With a pending-message limit of its own, for tests that make the router fall behind. */
    NatsAdapter(NatsSettings settings, RouteRegistry registry, Supplier<Map<String, Object>> componentInfo,
                long pendingMessages) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.registry = Objects.requireNonNull(registry, "registry");
        this.componentInfo = Objects.requireNonNull(componentInfo, "componentInfo");
        this.pendingMessages = pendingMessages;
    }

    /**
     * Connects, subscribes, and publishes {@code router.start} and {@code vcap.component.announce}. Each
     * of the {@link NatsSettings#connectAttempts()} attempts tries every server once, in order, half a second
     * apart; once connected, the connection reconnects for ever.
     *
     * @throws IOException when no server answered any attempt, or the server did not confirm the
     *                     subscriptions; the message names the servers tried and the last error
     * @throws InterruptedException when interrupted while waiting between attempts
     */
    public void start() throws IOException, InterruptedException {
        connect();
        subscribe();
    }

    /**
     * The first half of {@link #start()}: connects, without subscribing yet, so that a launcher can start
     * its status server between the two (the start-up order of the behaviour reference).
     *
     * @throws IOException when no server answered any attempt; the message names the servers tried
     * @throws InterruptedException when interrupted while waiting between attempts
     * @throws IllegalStateException when already connected
     */
    public void connect() throws IOException, InterruptedException {
        if (connection != null) {
            throw new IllegalStateException("connect: already connected");
        }
        Options options = new Options.Builder()
                .servers(settings.servers().stream().map(NatsServerAddress::url).toArray(String[]::new))
                .noRandomize()
                .connectionName("cf-router " + settings.routerId())
                .maxReconnects(-1)
                .reconnectWait(RECONNECT_WAIT)
                .connectionTimeout(CONNECT_TIMEOUT)
                .connectionListener(new Listener())
                .errorListener(new Errors())
                .build();
        monitor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "cf-router-nats-monitor");
            t.setDaemon(true);
            return t;
        });
        Connection c;
        try {
            c = connect(options, settings.servers(), settings.connectAttempts());
        } catch (IOException | InterruptedException e) {
            monitor.shutdownNow();
            throw e;
        }
        connection = c;
    }

    /**
     * The second half of {@link #start()}: subscribes, waits for the server to confirm, and publishes
     * {@code router.start} and {@code vcap.component.announce}.
     *
     * @throws IOException when the server did not confirm the subscriptions
     * @throws IllegalStateException when not connected, or already subscribed
     */
    public void subscribe() throws IOException, InterruptedException {
        Connection c = connection;
        if (c == null || dispatcher != null) {
            throw new IllegalStateException("subscribe: " + (c == null ? "not connected" : "already subscribed"));
        }
        Dispatcher d = c.createDispatcher(this::onMessage);
        d.setPendingLimits(pendingMessages, PENDING_BYTES);
        d.subscribe(REGISTER);
        d.subscribe(UNREGISTER);
        d.subscribe(GREET);
        d.subscribe(DISCOVER);
        d.subscribe(probeSubject, this::onProbe);
        dispatcher = d;
        try {
            c.flush(Duration.ofSeconds(5));
        } catch (TimeoutException e) {
            c.close();
            throw new IOException("NATS at " + serverName(c) + " did not confirm the subscriptions within 5 s", e);
        }
        publish(START, startMessage());
        announce();
        long every = MONITOR_INTERVAL.toMillis();
        monitor.scheduleWithFixedDelay(this::monitor, every, every, TimeUnit.MILLISECONDS);
        LOGGER.info("Connected to NATS at {}", serverName(c));
    }

    /**
     * Connects with a few quick attempts, as the launcher and the registrar both need at start-up.
     *
     * @throws IOException naming the servers and the last error when none answered
     */
    static Connection connect(Options options, List<?> servers, int attempts) throws IOException, InterruptedException {
        IOException last = null;
        for (int attempt = 1; attempt <= attempts; attempt++) {
            try {
                return Nats.connect(options);
            } catch (IOException e) {
                last = e;
                LOGGER.warn("NATS connect attempt {}/{} to {} failed: {}", attempt, attempts, servers,
                        withoutCredentials(e.getMessage()));
                if (attempt < attempts) {
                    TimeUnit.MILLISECONDS.sleep(RECONNECT_WAIT.toMillis());
                }
            }
        }
        String reason = last == null ? "" : withoutCredentials(last.getMessage());
        // jnats names the server URLs, credentials included: the cause is left out when it would leak them.
        boolean leaks = last != null && !reason.equals(String.valueOf(last.getMessage()));
        throw new IOException("no NATS server answered at " + servers + " after " + attempts
                + (attempts == 1 ? " attempt" : " attempts") + (reason.isEmpty() ? "" : ": " + reason),
                leaks ? null : last);
    }

    /** {@code text} with the {@code user:pass@} of every URL in it removed. */
    static String withoutCredentials(String text) {
        return text == null ? "" : CREDENTIALS.matcher(text).replaceAll("$1");
    }

    /**
     * Publishes {@code vcap.component.announce} with the current component info. {@link #start()} does it
     * once; call it again when the info changes (e.g. once the status port is bound). Does nothing before
     * {@link #start()}.
     */
    public void announce() {
        publish(ANNOUNCE, componentInfo.get());
    }

    private void onMessage(Message msg) {
        try {
            switch (msg.getSubject()) {
                case REGISTER -> apply(msg, true);
                case UNREGISTER -> apply(msg, false);
                case GREET -> reply(msg, startMessage());
                case DISCOVER -> reply(msg, componentInfo.get());
                default -> LOGGER.debug("Ignoring message on {}", msg.getSubject());
            }
        } catch (RuntimeException | StackOverflowError e) {
            invalid.incrementAndGet();
            LOGGER.warn("Dropped a message on {} that could not be handled: {}", msg.getSubject(), e.toString());
        }
    }

    private void onProbe(Message msg) {
        try {
            long n = Long.parseLong(new String(msg.getData(), StandardCharsets.US_ASCII));
            probeReceived.accumulateAndGet(n, Math::max);
        } catch (NumberFormatException e) {
            LOGGER.warn("Ignoring a foreign message on the router's probe subject {}", probeSubject);
        }
    }

    /**
     * Checks a reconnected connection end to end: publishes to {@link #probeSubject} and waits for the
     * dispatcher to receive it: jnats has reported reconnects whose connection never sent anything again
     * (see {@link ReconnectCheck}), and this also proves the subscriptions are back on the server. Until the
     * probe is back, pruning stays suspended; if it does not come back, the connection is forced to
     * reconnect, which restarts its writer and sends the subscriptions again.
     *
     * <p>Two probes, the second sent once the first is back: a writer in that broken state may still send
     * the first message queued after the reconnect (it was waiting on the normal queue when the mode went
     * wrong, and only looks at the mode again after that batch), so one round trip proves nothing.
     */
    private void probe() {
        probe(true);
    }

    private void probe(boolean first) {
        if (closing) {
            return;
        }
        long n = probeSent.incrementAndGet();
        publish(probeSubject, Long.toString(n));
        long deadline = System.nanoTime() + PROBE_TIMEOUT.toNanos();
        monitor.schedule(() -> checkProbe(n, first, deadline), PROBE_POLL.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void checkProbe(long n, boolean first, long deadline) {
        try {
            if (closing || probeSent.get() != n) {
                return; // closed, or a later reconnect sent a later probe
            }
            Connection c = connection;
            if (probeReceived.get() >= n && first) {
                probe(false);
            } else if (probeReceived.get() >= n) {
                reconnectVerified(c);
            } else if (c.getStatus() != Connection.Status.CONNECTED) {
                // Lost again: the next RESUBSCRIBED sends a new probe.
                LOGGER.debug("NATS connection lost again before the reconnect was confirmed");
            } else if (System.nanoTime() - deadline < 0) {
                monitor.schedule(() -> checkProbe(n, first, deadline), PROBE_POLL.toMillis(), TimeUnit.MILLISECONDS);
            } else {
                LOGGER.warn("NATS at {} reports a reconnect, but the router's own probe message did not come back "
                        + "within {} ms; forcing a reconnect", serverName(c), PROBE_TIMEOUT.toMillis());
                Thread t = new Thread(() -> {
                    ReconnectCheck.forceReconnect(c, "the router");
                    if (probeSent.get() == n) {
                        // No reconnect happened (jnats was busy reconnecting already): check again.
                        probe();
                    }
                }, "cf-router-nats-force-reconnect");
                t.setDaemon(true);
                t.start();
            }
        } catch (RuntimeException e) {
            if (!closing) {
                LOGGER.warn("Confirming the NATS reconnect failed: {}", e.toString());
            }
        }
    }

    private void reconnectVerified(Connection conn) {
        long since = disconnectedSince.getAndSet(0);
        long millis = since == 0 ? 0 : TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since);
        if (settings.suspendPruningWhileDisconnected()) {
            registry.resumePruning();
        }
        // Counted once the registry is ready, so that whoever sees the count sees pruning resumed.
        reconnects.incrementAndGet();
        verified = true;
        if (settings.suspendPruningWhileDisconnected()) {
            LOGGER.info("Reconnected to NATS at {} after {} ms, subscriptions confirmed; staleness clocks reset, "
                    + "pruning resumed", serverName(conn), millis);
        } else {
            LOGGER.info("Reconnected to NATS at {} after {} ms, subscriptions confirmed", serverName(conn), millis);
        }
    }

    private void apply(Message msg, boolean register) {
        received.incrementAndGet();
        RegistryMessageDecoder.Result result = RegistryMessageDecoder.decode(msg.getData(), decoderWarnings);
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
        publish(replyTo, payload);
    }

    /**
     * The {@code router.start} and {@code router.greet} payload of §1.2: {@code id}, {@code hosts},
     * {@code minimumRegisterIntervalInSeconds} and the prune threshold under both of its spellings
     * ({@code pruneThresholdInSeconds} and {@code prunteThresholdInSeconds}), all durations in whole seconds.
     *
     * @return a new mutable map, in wire order
     */
    public Map<String, Object> startMessage() {
        return startMessage(settings);
    }

    static Map<String, Object> startMessage(NatsSettings settings) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", settings.routerId());
        m.put("hosts", List.of(settings.routerHost()));
        m.put("minimumRegisterIntervalInSeconds", settings.minimumRegisterInterval().toSeconds());
        m.put("pruneThresholdInSeconds", settings.pruneThreshold().toSeconds());
        m.put("prunteThresholdInSeconds", settings.pruneThreshold().toSeconds());
        return m;
    }

    private void publish(String subject, Map<String, Object> payload) {
        publish(subject, GSON.toJson(payload));
    }

    private void publish(String subject, String payload) {
        Connection c = connection;
        if (c == null) {
            return;
        }
        try {
            c.publish(subject, payload.getBytes(StandardCharsets.UTF_8));
        } catch (IllegalStateException e) {
            // Closed under us (shutdown): there is no one left to tell.
            LOGGER.debug("Not published on {}: {}", subject, e.getMessage());
        }
    }

    /**
     * The connection's figures, read now.
     *
     * @return whether connected (after a reconnect: only once the connection has been seen to deliver
     *         messages again), reconnects since start, route messages received, messages refused as
     *         invalid, and messages the client dropped because the router fell behind
     */
    public NatsStats stats() {
        Connection c = connection;
        boolean connected = c != null && verified && c.getStatus() == Connection.Status.CONNECTED;
        return new NatsStats(connected, reconnects.get(), received.get(), invalid.get(), dropped());
    }

    private long dropped() {
        // The dispatcher's count is cumulative (never cleared here); jnats reports only the first drop of a
        // slow-consumer episode through the error listener, so the count itself is the only full figure.
        Dispatcher d = dispatcher;
        return d == null ? 0 : d.getDroppedCount();
    }

    /** Runs every {@link #MONITOR_INTERVAL}: says what silently would go unnoticed. */
    private void monitor() {
        try {
            reportDropped();
            long since = disconnectedSince.get();
            if (since != 0 && !closing) {
                LOGGER.warn("Still disconnected from NATS after {} s; reconnecting to {}",
                        TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - since), settings.servers());
            }
        } catch (RuntimeException e) {
            LOGGER.warn("NATS monitor failed; will try again: {}", e.toString());
        }
    }

    private void reportDropped() {
        long total = dropped();
        long before = droppedReported.getAndSet(total);
        if (total > before) {
            LOGGER.error("NATS slow consumer: dropped {} messages since the last report, {} in all; the router "
                    + "falls behind the registrations published", total - before, total);
        }
    }

    /** Drains pending messages (up to 2 s) and closes the connection. Idempotent. */
    @Override
    public void close() throws InterruptedException {
        closing = true;
        if (monitor != null) {
            monitor.shutdownNow();
        }
        Connection c = connection;
        if (c != null) {
            try {
                c.drain(Duration.ofSeconds(2)).get(3, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception e) {
                LOGGER.debug("NATS drain did not finish cleanly: {}", e.toString());
            }
            c.close();
            reportDropped();
        }
    }

    private static String serverName(Connection c) {
        String url = c.getConnectedUrl();
        return url == null ? "?" : withoutCredentials(url);
    }

    private final class Listener implements ConnectionListener {
        @Override
        public void connectionEvent(Connection conn, Events type) {
            try {
                switch (type) {
                    case DISCONNECTED -> disconnected();
                    case RECONNECTED -> LOGGER.info("Reconnected to NATS at {}; confirming the subscriptions",
                            serverName(conn));
                    // Published once the subscriptions are back, so that answers to it are not missed.
                    case RESUBSCRIBED -> {
                        publish(START, startMessage());
                        probe();
                    }
                    case CLOSED -> {
                        if (closing || conn != connection) {
                            // Our own close, or a start-up attempt that failed (already reported).
                            LOGGER.debug("NATS connection closed");
                        } else {
                            // jnats gives up only when a server refuses the credentials twice running.
                            LOGGER.error("NATS connection closed by the client library; the router no longer "
                                    + "receives registrations: check the NATS credentials and restart");
                        }
                    }
                    default -> LOGGER.debug("NATS connection event {}", type);
                }
            } catch (RuntimeException e) {
                LOGGER.warn("Handling NATS event {} failed: {}", type, e.toString());
            }
        }

        private void disconnected() {
            if (closing || !disconnectedSince.compareAndSet(0, System.nanoTime())) {
                verified = false;
                return;
            }
            if (settings.suspendPruningWhileDisconnected()) {
                registry.suspendPruning();
            }
            // After the suspension, so that whoever sees the router disconnected sees pruning suspended.
            verified = false;
            if (settings.suspendPruningWhileDisconnected()) {
                LOGGER.warn("Disconnected from NATS; pruning suspended until it is back; reconnecting to {}",
                        settings.servers());
            } else {
                LOGGER.warn("Disconnected from NATS; reconnecting to {}", settings.servers());
            }
        }
    }

    private final class Errors implements ErrorListener {
        @Override
        public void slowConsumerDetected(Connection conn, io.nats.client.Consumer consumer) {
            // Called once per episode, at its first drop; the monitor reports the whole count.
            LOGGER.error("NATS slow consumer: the router fell behind and the client started dropping messages "
                    + "({} pending)", consumer.getPendingMessageCount());
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
