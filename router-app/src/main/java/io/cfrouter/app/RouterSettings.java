package io.cfrouter.app;

import io.cfrouter.core.LoadBalancing;
import io.cfrouter.nats.NatsServerAddress;
import io.cfrouter.proxy.ProxyEngine;

import java.time.Duration;
import java.util.List;

/**
 * The whole router configuration, typed and checked. Built from Typesafe Config by {@link ConfigLoader}.
 */
public record RouterSettings(
        String host,
        int port,
        int index,
        int statusPort,
        String statusUser,
        String statusPass,
        List<NatsServerAddress> nats,
        String loggingFile,
        String loggingLevel,
        String loggingFormat,
        String accessLogFile,
        Duration dropletStaleThreshold,
        Duration pruneStaleDropletsInterval,
        Duration startResponseDelayInterval,
        boolean suspendPruningIfNatsUnavailable,
        Duration endpointTimeout,
        Duration endpointDialTimeout,
        Duration frontendIdleTimeout,
        Duration readHeaderTimeout,
        Duration drainWait,
        Duration drainTimeout,
        LoadBalancing balancingAlgorithm,
        int maxConns,
        int maxAttempts,
        int maxRequestHeaderBytes,
        String traceKey,
        boolean secureCookies,
        List<String> stickySessionCookieNames,
        String healthcheckUserAgent,
        int proxyIoThreads,
        int proxyWorkerThreads,
        ProxyEngine proxyEngine) {

    /** Copies the lists. */
    public RouterSettings {
        nats = List.copyOf(nats);
        stickySessionCookieNames = List.copyOf(stickySessionCookieNames);
    }

    /** {@code proxy_io_threads}, 0 resolved to the number of cores (at least 2). */
    public int effectiveProxyIoThreads() {
        return proxyIoThreads > 0 ? proxyIoThreads : Math.max(2, Runtime.getRuntime().availableProcessors());
    }

    /** {@code proxy_worker_threads}, 0 resolved to 8 per I/O thread. */
    public int effectiveProxyWorkerThreads() {
        return proxyWorkerThreads > 0 ? proxyWorkerThreads : 8 * effectiveProxyIoThreads();
    }

    /**
     * The threshold in force: {@code droplet_stale_threshold}, raised to {@code start_response_delay_interval}
     * when that is longer (components must have had a chance to re-register).
     */
    public Duration effectiveStaleThreshold() {
        return startResponseDelayInterval.compareTo(dropletStaleThreshold) > 0
                ? startResponseDelayInterval : dropletStaleThreshold;
    }
}
