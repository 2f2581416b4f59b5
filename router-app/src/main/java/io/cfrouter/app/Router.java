package io.cfrouter.app;

import io.cfrouter.core.Health;
import io.cfrouter.core.RequestObserver;
import io.cfrouter.core.Ticker;
import io.cfrouter.nats.NatsAdapter;
import io.cfrouter.nats.NatsSettings;
import io.cfrouter.nats.NatsStats;
import io.cfrouter.proxy.ProxyExtension;
import io.cfrouter.proxy.ProxyListener;
import io.cfrouter.proxy.ProxyServer;
import io.cfrouter.proxy.ProxySettings;
import io.cfrouter.proxy.RouterHandler;
import io.cfrouter.registry.RouteRegistry;
import io.cfrouter.status.RouterStatistics;
import io.cfrouter.status.StatusServer;
import io.cfrouter.status.StatusSettings;
import io.undertow.server.handlers.GracefulShutdownHandler;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.xnio.XnioWorker;

import java.io.IOException;
import java.net.BindException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The whole router, wired by hand in dependency order: registry, NATS, status server, pruning, proxy.
 * {@link #start()} follows the start-up order of the behaviour reference (§6); {@link #drain()} is the
 * graceful half of stopping; {@link #close()} undoes {@link #start()} in reverse.
 */
final class Router implements AutoCloseable {

    private static final Logger LOGGER = LogManager.getLogger();
    /** Access-log lines that may wait for the disk before new ones are dropped. */
    private static final int ACCESS_LOG_QUEUE = 64 * 1024;
    /** How long a closing listener waits for idle keep-alive connections before cutting them. */
    private static final int CLOSE_TIMEOUT_MILLIS = 1000;
    /** jnats names the servers it could not reach by URL, credentials included. */
    private static final Pattern CREDENTIALS_IN_URL = Pattern.compile("([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\\s\\]]+@");

    /** A start-up failure the operator can fix (NATS unreachable, a port in use): one line, no stack trace. */
    static final class StartupException extends IOException {
        StartupException(String message, Throwable cause) {
            super(message, cause);
        }

        @Override
        public synchronized Throwable fillInStackTrace() {
            return this;
        }
    }

    private final RouterSettings settings;
    private final Ticker ticker = Ticker.system();
    private final Health health = new Health();
    private final String uuid = UUID.randomUUID().toString();
    private final String routerId;
    private final String routerIp = localIp();
    private final RouteRegistry registry;
    private final RouterStatistics statistics = new RouterStatistics(ticker);
    private final StatusServer statusServer;

    private volatile NatsAdapter nats;
    private ProxyListener proxyServer;
    private XnioWorker proxyWorker;
    private GracefulShutdownHandler proxyShutdown;
    private RouterHandler routerHandler;
    private AccessLogWriter accessLog;
    private ScheduledExecutorService scheduler;
    private int proxyPort;

    Router(RouterSettings settings) {
        this.settings = settings;
        this.routerId = settings.index() + "-" + uuid;
        this.registry = RouteRegistry.builder()
                .ticker(ticker)
                .staleThreshold(settings.effectiveStaleThreshold())
                .loadBalancing(settings.balancingAlgorithm())
                .maxConnsPerEndpoint(settings.maxConns())
                .build();
        registry.addListener(new RegistryEventLog());
        // Empty credentials are generated here and shared only through vcap.component.discover, which
        // goes out with the NATS subscriptions, before the status server listens: it announces the
        // configured port until then.
        this.statusServer = StatusServer.builder(new StatusSettings(settings.host(), settings.statusPort(),
                        settings.statusUser(), settings.statusPass()), health, registry)
                .ticker(ticker)
                .statistics(statistics)
                .index(settings.index())
                .uuid(routerId)
                .advertisedHost(routerIp)
                .extraVarz(this::extraVarz)
                .build();
    }

    /**
     * Starts everything; returns once the proxy listens and the router is healthy.
     *
     * @throws StartupException when no NATS server answers or a port cannot be bound
     * @throws InterruptedException when interrupted (a stop signal during start-up)
     */
    void start() throws IOException, InterruptedException {
        LOGGER.info("cf-router {} starting: NATS at {}", routerId, settings.nats());
        if (!settings.accessLogFile().isEmpty()) {
            try {
                accessLog = AccessLogWriter.open(Path.of(settings.accessLogFile()), ACCESS_LOG_QUEUE);
                LOGGER.info("Access log: {}", settings.accessLogFile());
            } catch (IOException e) {
                throw new StartupException("access_log.file: " + settings.accessLogFile() + ": " + e, e);
            }
        }
        nats = new NatsAdapter(new NatsSettings(settings.nats(), routerId, routerIp,
                settings.startResponseDelayInterval(), settings.effectiveStaleThreshold(),
                settings.suspendPruningIfNatsUnavailable(), 3), registry, statusServer::componentInfo);
        // §6: connect, status server (/health 503), then subscribe, router.start and announce.
        try {
            nats.connect();
        } catch (StartupException e) {
            throw e;
        } catch (IOException e) {
            throw new StartupException("nats: " + withoutCredentials(e.getMessage()), e);
        }

        try {
            statusServer.start();
        } catch (IOException e) {
            throw new StartupException(e.getMessage(), e);
        }
        LOGGER.info("Status server on {}:{}; /health answers 503 until the proxy listens", settings.host(),
                statusServer.port());

        try {
            nats.subscribe();
        } catch (IOException e) {
            throw new StartupException("nats: " + withoutCredentials(e.getMessage()), e);
        }

        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "cf-router-pruner");
            t.setDaemon(true);
            return t;
        });
        long interval = settings.pruneStaleDropletsInterval().toMillis();
        scheduler.scheduleWithFixedDelay(this::prune, interval, interval, TimeUnit.MILLISECONDS);

        Duration delay = settings.startResponseDelayInterval();
        if (!delay.isZero()) {
            LOGGER.info("Waiting {} for routes to be registered before listening", human(delay));
            TimeUnit.MILLISECONDS.sleep(delay.toMillis());
        }

        ProxySettings proxySettings = new ProxySettings(routerIp, settings.healthcheckUserAgent(),
                settings.maxAttempts(), settings.endpointTimeout(), settings.endpointDialTimeout(),
                settings.traceKey(), settings.secureCookies(), settings.stickySessionCookieNames(),
                settings.maxRequestHeaderBytes());
        routerHandler = RouterHandler.builder(registry)
                .settings(proxySettings)
                .engine(settings.proxyEngine())
                .health(health)
                .observer(requestObserver())
                .build();
        List<ProxyExtension> extensions = ProxyExtension.load(Router.class.getClassLoader());
        extensions.forEach(e -> LOGGER.info("Proxy extension {} (order {})", e.getClass().getName(), e.order()));
        proxyShutdown = new GracefulShutdownHandler(ProxyExtension.wrapAll(extensions, routerHandler));
        // The proxy's threads (proxy_io_threads, proxy_worker_threads), owned here rather than by the listener so
        // that stopping the listener during a drain leaves requests in flight running.
        proxyWorker = ProxyServer.newWorker("cf-router-proxy", settings.effectiveProxyIoThreads(),
                settings.effectiveProxyWorkerThreads());
        proxyServer = ProxyServer.builder(proxyShutdown)
                .host(settings.host())
                .port(settings.port())
                .maxRequestHeaderBytes(settings.maxRequestHeaderBytes())
                .idleTimeout(settings.frontendIdleTimeout())
                .readHeaderTimeout(settings.readHeaderTimeout())
                .worker(proxyWorker)
                // The router's own path for plain GETs and HEADs skips the handlers above: only without extensions.
                .fastLane(extensions.isEmpty() ? routerHandler : null)
                .build();
        listen(proxyServer, "port", settings.port());
        proxyPort = proxyServer.port();
        health.set(Health.State.HEALTHY);
        LOGGER.info("cf-router {} listening: proxy on {}:{}, status on {}:{}, NATS at {}", routerId,
                settings.host(), proxyPort, settings.host(), statusServer.port(), settings.nats());
    }

    /**
     * Everything that is told about finished requests: the statistics, and the access log when configured.
     * The proxy calls it on its I/O threads.
     */
    RequestObserver requestObserver() {
        List<RequestObserver> observers = new ArrayList<>();
        observers.add(statistics);
        if (accessLog != null) {
            observers.add(accessLog);
        }
        return RequestObserver.all(observers);
    }

    /** Access-log lines dropped because the disk did not keep up (0 without an access log), for /varz. */
    long accessLogDroppedLines() {
        AccessLogWriter log = accessLog;
        return log == null ? 0 : log.droppedLines();
    }

    private void prune() {
        try {
            long start = System.nanoTime();
            if (registry.isPruningSuspended()) {
                LOGGER.debug("Prune sweep skipped: pruning is suspended while NATS is unavailable");
                return;
            }
            int pruned = registry.pruneStale(ticker.read());
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            if (pruned > 0) {
                LOGGER.info("Prune sweep: {} stale endpoints removed in {} ms; {} routes, {} endpoints left", pruned,
                        millis, registry.routeCount(), registry.endpointCount());
            } else {
                LOGGER.debug("Prune sweep: nothing stale in {} ms; {} routes, {} endpoints", millis,
                        registry.routeCount(), registry.endpointCount());
            }
        } catch (RuntimeException e) {
            LOGGER.error("Prune sweep failed; will try again", e);
        }
    }

    /**
     * The graceful half of stopping (§6): {@code /health} and the {@code User-Agent} check answer 503 at
     * once; after {@code drain_wait} the proxy stops accepting connections; requests in flight get up to
     * {@code drain_timeout} to finish. {@link #close()} does the rest.
     */
    void drain() throws InterruptedException {
        health.set(Health.State.DRAINING);
        Duration wait = settings.drainWait();
        Duration timeout = settings.drainTimeout();
        LOGGER.info("Draining: /health answers 503; the proxy stops accepting in {}, then requests in flight get "
                + "up to {} to finish", human(wait), human(timeout));
        if (!wait.isZero()) {
            TimeUnit.MILLISECONDS.sleep(wait.toMillis());
        }
        if (proxyServer == null) {
            return;
        }
        long start = System.nanoTime();
        // New requests on kept-alive connections get 503; the listening socket closes, the worker stays.
        proxyShutdown.shutdown();
        proxyServer.stopOwnRequests();
        proxyServer.stop();
        if (proxyShutdown.awaitShutdown(timeout.toMillis())
                && proxyServer.awaitOwnRequests(Math.max(1, timeout.toMillis()
                        - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)))) {
            LOGGER.info("Drained: requests in flight finished in {} ms",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
        } else {
            LOGGER.warn("drain_timeout ({}) passed with requests still in flight; closing them", human(timeout));
        }
    }

    int proxyPort() {
        return proxyPort;
    }

    int statusPort() {
        return statusServer.port();
    }

    /** The launcher's own sections of {@code /varz}: the NATS connection and the access log. */
    private Map<String, Object> extraVarz() {
        NatsAdapter adapter = nats;
        Map<String, Object> natsMap = new LinkedHashMap<>();
        if (adapter == null) {
            natsMap.put("connected", false);
        } else {
            NatsStats n = adapter.stats();
            natsMap.put("connected", n.connected());
            natsMap.put("reconnects", n.reconnects());
            natsMap.put("messages_received", n.messagesReceived());
            natsMap.put("invalid_messages", n.invalidMessages());
            natsMap.put("dropped_messages", n.droppedMessages());
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("nats", natsMap);
        m.put("access_log", Map.of("dropped_lines", accessLogDroppedLines()));
        return m;
    }

    @Override
    public void close() {
        health.set(Health.State.DRAINING);
        if (proxyServer != null) {
            proxyServer.stop();
        }
        if (proxyWorker != null) {
            proxyWorker.shutdownNow();
            try {
                proxyWorker.awaitTermination(CLOSE_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (routerHandler != null) {
            routerHandler.close();
        }
        if (accessLog != null) {
            accessLog.close();
        }
        if (scheduler != null) {
            scheduler.shutdownNow();
        }
        if (nats != null) {
            try {
                nats.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        statusServer.close();
        LOGGER.info("cf-router {} stopped", routerId);
    }

    /** Starts {@code server}; a port that cannot be bound becomes one line naming {@code key}. */
    private void listen(ProxyListener server, String key, int port) throws StartupException {
        try {
            server.start();
        } catch (RuntimeException e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof BindException) {
                    throw new StartupException(key + ": cannot listen on " + settings.host() + ":" + port + ": "
                            + t.getMessage(), e);
                }
            }
            throw e;
        }
    }

    /** {@code message} with the user and password of any {@code scheme://user:pass@host} masked. */
    static String withoutCredentials(String message) {
        return message == null ? "" : CREDENTIALS_IN_URL.matcher(message).replaceAll("$1***@");
    }

    /** {@code 1500ms}, {@code 5s}: the way durations are written in the configuration. */
    static String human(Duration d) {
        long millis = d.toMillis();
        return millis % 1000 == 0 ? millis / 1000 + "s" : millis + "ms";
    }

    private static String localIp() {
        try {
            for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                if (!nif.isUp() || nif.isLoopback()) {
                    continue;
                }
                for (InetAddress a : Collections.list(nif.getInetAddresses())) {
                    if (a instanceof Inet4Address) {
                        return a.getHostAddress();
                    }
                }
            }
        } catch (SocketException e) {
            LOGGER.debug("Could not list network interfaces: {}", e.toString());
        }
        return "127.0.0.1";
    }
}
