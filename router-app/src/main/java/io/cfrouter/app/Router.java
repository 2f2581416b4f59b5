package io.cfrouter.app;

import io.cfrouter.core.Health;
import io.cfrouter.core.Ticker;
import io.cfrouter.nats.NatsAdapter;
import io.cfrouter.nats.NatsSettings;
import io.cfrouter.nats.NatsStats;
import io.cfrouter.proxy.ProxySettings;
import io.cfrouter.proxy.RouterHandler;
import io.cfrouter.registry.RouteRegistry;
import io.cfrouter.status.StatusHandler;
import io.cfrouter.status.StatusSettings;
import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The whole router, wired by hand in dependency order: registry, NATS, status server, pruning, proxy.
 * {@link #start()} follows the start-up order of the behaviour reference; {@link #close()} undoes it in
 * reverse.
 */
final class Router implements AutoCloseable {

    private static final Logger LOGGER = LogManager.getLogger();

    private final RouterSettings settings;
    private final Ticker ticker = Ticker.system();
    private final Health health = new Health();
    private final String uuid = UUID.randomUUID().toString();
    private final String routerId;
    private final String routerIp = localIp();
    private final String statusUser;
    private final String statusPass;
    private final Instant startTime = Instant.now();
    private final RouteRegistry registry;

    private NatsAdapter nats;
    private Undertow statusServer;
    private Undertow proxyServer;
    private RouterHandler routerHandler;
    private ScheduledExecutorService scheduler;
    private int proxyPort;
    private int statusPort;

    Router(RouterSettings settings) {
        this.settings = settings;
        this.routerId = settings.index() + "-" + uuid;
        this.statusUser = settings.statusUser().isEmpty() ? randomToken() : settings.statusUser();
        this.statusPass = settings.statusPass().isEmpty() ? randomToken() : settings.statusPass();
        this.registry = RouteRegistry.builder()
                .ticker(ticker)
                .staleThreshold(settings.effectiveStaleThreshold())
                .loadBalancing(settings.balancingAlgorithm())
                .maxConnsPerEndpoint(settings.maxConns())
                .build();
    }

    /** Starts everything; returns once the proxy listens and the router is healthy. */
    void start() throws IOException, InterruptedException {
        nats = new NatsAdapter(new NatsSettings(settings.nats(), routerId, routerIp,
                settings.startResponseDelayInterval(), settings.effectiveStaleThreshold(),
                settings.suspendPruningIfNatsUnavailable(), 3), registry, this::componentInfo);
        nats.start();

        StatusHandler statusHandler = new StatusHandler(
                new StatusSettings(settings.host(), settings.statusPort(), statusUser, statusPass),
                health, registry, ticker, this::varz);
        statusServer = Undertow.builder()
                .addHttpListener(settings.statusPort(), settings.host())
                .setIoThreads(1)
                .setWorkerThreads(2)
                .setHandler(statusHandler)
                .build();
        statusServer.start();
        statusPort = boundPort(statusServer);

        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "cf-router-pruner");
            t.setDaemon(true);
            return t;
        });
        long interval = settings.pruneStaleDropletsInterval().toMillis();
        scheduler.scheduleWithFixedDelay(this::prune, interval, interval, TimeUnit.MILLISECONDS);

        Duration delay = settings.startResponseDelayInterval();
        if (!delay.isZero()) {
            LOGGER.info("Waiting {} for routes to be registered before listening", delay);
            TimeUnit.MILLISECONDS.sleep(delay.toMillis());
        }

        ProxySettings proxySettings = new ProxySettings(routerIp, settings.healthcheckUserAgent(),
                settings.maxAttempts(), settings.endpointTimeout(), settings.endpointDialTimeout(),
                settings.traceKey(), settings.secureCookies(), settings.stickySessionCookieNames(),
                settings.maxRequestHeaderBytes());
        routerHandler = new RouterHandler(registry, proxySettings, health);
        proxyServer = Undertow.builder()
                .addHttpListener(settings.port(), settings.host())
                .setServerOption(UndertowOptions.MAX_HEADER_SIZE, settings.maxRequestHeaderBytes())
                .setServerOption(UndertowOptions.ALWAYS_SET_KEEP_ALIVE, false)
                .setServerOption(UndertowOptions.IDLE_TIMEOUT,
                        (int) Math.min(Integer.MAX_VALUE, settings.frontendIdleTimeout().toMillis()))
                .setHandler(routerHandler)
                .build();
        proxyServer.start();
        proxyPort = boundPort(proxyServer);
        health.set(Health.State.HEALTHY);
        LOGGER.info("cf-router {} listening: proxy on {}:{}, status on {}:{}, NATS at {}", routerId,
                settings.host(), proxyPort, settings.host(), statusPort, settings.nats());
    }

    private void prune() {
        try {
            long start = System.nanoTime();
            int pruned = registry.pruneStale(ticker.read());
            if (pruned > 0) {
                LOGGER.info("Pruned {} stale endpoints in {} ms", pruned,
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
            }
        } catch (RuntimeException e) {
            LOGGER.error("Prune sweep failed; will try again", e);
        }
    }

    int proxyPort() {
        return proxyPort;
    }

    int statusPort() {
        return statusPort;
    }

    Map<String, Object> componentInfo() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", "Router");
        m.put("index", settings.index());
        m.put("host", routerIp + ":" + statusPort);
        m.put("credentials", List.of(statusUser, statusPass));
        m.put("uuid", routerId);
        m.put("start", startTime.toString());
        m.put("uptime", uptime());
        return m;
    }

    private Map<String, Object> varz() {
        Map<String, Object> m = componentInfo();
        m.put("num_cores", Runtime.getRuntime().availableProcessors());
        m.put("urls", registry.routeCount());
        m.put("droplets", registry.endpointCount());
        long last = registry.lastUpdateNanos();
        m.put("ms_since_last_registry_update",
                last == Long.MIN_VALUE ? -1 : TimeUnit.NANOSECONDS.toMillis(ticker.read() - last));
        NatsStats n = nats.stats();
        Map<String, Object> natsMap = new LinkedHashMap<>();
        natsMap.put("connected", n.connected());
        natsMap.put("reconnects", n.reconnects());
        natsMap.put("messages_received", n.messagesReceived());
        natsMap.put("invalid_messages", n.invalidMessages());
        natsMap.put("dropped_messages", n.droppedMessages());
        m.put("nats", natsMap);
        return m;
    }

    private String uptime() {
        long s = Duration.between(startTime, Instant.now()).toSeconds();
        return String.format("%dd:%dh:%dm:%ds", s / 86400, (s / 3600) % 24, (s / 60) % 60, s % 60);
    }

    @Override
    public void close() {
        health.set(Health.State.DRAINING);
        if (proxyServer != null) {
            proxyServer.stop();
        }
        if (routerHandler != null) {
            routerHandler.close();
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
        if (statusServer != null) {
            statusServer.stop();
        }
        LOGGER.info("cf-router {} stopped", routerId);
    }

    private static int boundPort(Undertow server) {
        return ((InetSocketAddress) server.getListenerInfo().get(0).getAddress()).getPort();
    }

    private static String randomToken() {
        byte[] bytes = new byte[12];
        new SecureRandom().nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
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
