package io.cfrouter.registry;

import io.cfrouter.core.LoadBalancing;
import io.cfrouter.core.Ticker;

import java.time.Duration;
import java.util.Objects;

/**
 * Builds a {@link RouteRegistry}. Each setter validates its argument at once and throws
 * {@link IllegalArgumentException} with the value and what was expected. Not thread-safe; each
 * {@link #build()} returns a new, independent registry.
 */
public final class RouteRegistryBuilder {

    private Ticker ticker = Ticker.system();
    private Duration staleThreshold = Duration.ofSeconds(120);
    private LoadBalancing loadBalancing = LoadBalancing.ROUND_ROBIN;
    private int maxConnsPerEndpoint;

    RouteRegistryBuilder() {
    }

    /**
     * The time source for staleness and failure marks (default: {@link Ticker#system()}); the readings
     * passed to {@link RouteRegistry#pruneStale} must come from it.
     */
    public RouteRegistryBuilder ticker(Ticker ticker) {
        this.ticker = Objects.requireNonNull(ticker, "ticker");
        return this;
    }

    /**
     * The router's {@code droplet_stale_threshold} (default 120 s): the longest an endpoint lives without
     * re-registering; an endpoint's own threshold is capped at it. Failed endpoints are skipped for a
     * quarter of it.
     */
    public RouteRegistryBuilder staleThreshold(Duration staleThreshold) {
        Objects.requireNonNull(staleThreshold, "staleThreshold");
        if (staleThreshold.isNegative() || staleThreshold.isZero()) {
            throw new IllegalArgumentException("staleThreshold: " + staleThreshold + " (expected: > 0)");
        }
        this.staleThreshold = staleThreshold;
        return this;
    }

    /** The default algorithm for routes without an override (default round-robin). */
    public RouteRegistryBuilder loadBalancing(LoadBalancing loadBalancing) {
        this.loadBalancing = Objects.requireNonNull(loadBalancing, "loadBalancing");
        return this;
    }

    /** {@code backends.max_conns}: requests in flight per endpoint, 0 for no limit (the default). */
    public RouteRegistryBuilder maxConnsPerEndpoint(int maxConns) {
        if (maxConns < 0) {
            throw new IllegalArgumentException("maxConnsPerEndpoint: " + maxConns + " (expected: >= 0)");
        }
        this.maxConnsPerEndpoint = maxConns;
        return this;
    }

    /** A new, empty registry. */
    public RouteRegistry build() {
        return new DefaultRouteRegistry(ticker, staleThreshold.toNanos(), loadBalancing, maxConnsPerEndpoint);
    }
}
