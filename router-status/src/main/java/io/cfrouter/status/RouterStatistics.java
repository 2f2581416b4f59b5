package io.cfrouter.status;

import io.cfrouter.core.RequestObserver;
import io.cfrouter.core.RequestRecord;
import io.cfrouter.core.Ticker;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The router's traffic statistics for {@code /varz}: request and response counters, 1/5/15-minute rates,
 * latency percentiles, the same per {@code component} tag, and the ten busiest applications of the last
 * minute. Give it to the proxy as its {@link RequestObserver}.
 *
 * <p>Thread-safety: {@link #onRequest} may be called from any number of threads at once; it takes no
 * lock, never blocks, and allocates nothing except for the first request of an application in a minute,
 * of a new component tag, or of a thread. Time is read from the given {@link Ticker}; rates and windows advance in
 * {@value #TICK_SECONDS}-second steps when a request or a reader notices the time has come, so there is
 * no background thread. {@link #snapshot()} may be called from any thread.
 *
 * <p>Each recording thread gets its own counters and latency recorder (see the memory note below), so
 * record from long-lived threads such as Undertow's I/O threads, not from a fresh thread per request.
 *
 * <p>Memory is bounded: by default at most {@value #DEFAULT_MAX_COMPONENTS} component tags get their own
 * figures (later ones are counted only in the totals) and at most {@value #DEFAULT_MAX_APPS} applications
 * are tracked per minute for the top ten (about 100 bytes each). Latency histograms take about 24 KiB
 * each: five per group (totals and each component) plus two per group for each thread that records.
 */
public final class RouterStatistics implements RequestObserver {

    /** The step in which rates and windows advance. */
    public static final int TICK_SECONDS = 5;
    /** Default cap on component tags with their own figures. */
    public static final int DEFAULT_MAX_COMPONENTS = 32;
    /** Default cap on applications tracked per minute for {@code top10_app_requests}. */
    public static final int DEFAULT_MAX_APPS = 10_000;

    static final long TICK_NANOS = TICK_SECONDS * 1_000_000_000L;
    static final long MINUTE_NANOS = 60 * 1_000_000_000L;
    private static final long TICKS_PER_MINUTE = MINUTE_NANOS / TICK_NANOS;

    private final Ticker ticker;
    private final TrafficFigures total = new TrafficFigures(TICK_SECONDS);
    private final CappedMap<TrafficFigures> components;
    private final TopApps apps;
    private final ReentrantLock tickLock = new ReentrantLock();
    private volatile long nextTickNanos;
    /** Guarded by {@link #tickLock}. */
    private long ticks;

    /** Statistics that read time from {@code ticker}, with the default caps. */
    public RouterStatistics(Ticker ticker) {
        this(ticker, DEFAULT_MAX_COMPONENTS, DEFAULT_MAX_APPS);
    }

    /**
     * Statistics that read time from {@code ticker}.
     *
     * @param maxComponents component tags that get their own figures, at least 0
     * @param maxApps applications tracked per minute for the top ten, at least 1
     */
    public RouterStatistics(Ticker ticker, int maxComponents, int maxApps) {
        this.ticker = Objects.requireNonNull(ticker, "ticker");
        if (maxComponents < 0) {
            throw new IllegalArgumentException("maxComponents: " + maxComponents + " (expected: >= 0)");
        }
        if (maxApps < 1) {
            throw new IllegalArgumentException("maxApps: " + maxApps + " (expected: >= 1)");
        }
        this.components = new CappedMap<>(maxComponents, c -> new TrafficFigures(TICK_SECONDS));
        long now = ticker.read();
        this.nextTickNanos = now + TICK_NANOS;
        this.apps = new TopApps(maxApps, now);
    }

    /**
     * Counts one finished request: its status class, its latency, whether the router itself refused it
     * ({@code bad_requests}: a 4xx with a router error) or could not reach a backend ({@code bad_gateways}:
     * a 502 with a router error), its component tag and its application.
     */
    @Override
    public void onRequest(RequestRecord record) {
        long now = ticker.read();
        if (now - nextTickNanos >= 0) {
            tickIfDue(now, false);
        }
        int status = record.status();
        String routerError = record.routerError();
        boolean routerAnswered = routerError != null && !routerError.isEmpty();
        boolean badRequest = routerAnswered && status >= 400 && status < 500;
        boolean badGateway = routerAnswered && status == 502;
        long duration = record.durationNanos();
        total.record(status, duration, badRequest, badGateway);
        String component = record.component();
        if (component != null && !component.isEmpty()) {
            TrafficFigures figures = components.get(component); // null past the cap
            if (figures != null) {
                figures.record(status, duration, badRequest, badGateway);
            }
        }
        String appId = record.appId();
        if (appId != null && !appId.isEmpty()) {
            apps.record(appId);
        }
    }

    /** Requests counted so far. */
    public long requests() {
        return total.requests();
    }

    /** Requests of the last two minutes not attributed to an application because the table was full. */
    long untrackedAppRequests() {
        tickLock.lock();
        try {
            return apps.untracked();
        } finally {
            tickLock.unlock();
        }
    }

    /**
     * The traffic part of {@code /varz}, read now: {@code requests}, {@code rate}, {@code requests_per_sec},
     * {@code responses_2xx} ... {@code _xxx}, {@code bad_requests}, {@code bad_gateways}, {@code latency}
     * (seconds, over the last one to two minutes, or since the previous call when calls are further apart),
     * {@code tags} and {@code top10_app_requests}. A fresh,
     * mutable map the caller may extend.
     */
    public Map<String, Object> snapshot() {
        long now = ticker.read();
        tickLock.lock();
        try {
            tickIfDue(now, true);
            Map<String, Object> m = total.toMap();
            Map<String, Object> byComponent = new TreeMap<>();
            components.forEach((name, figures) -> byComponent.put(name, figures.toMap()));
            m.put("tags", Map.of("component", byComponent));
            List<Map<String, Object>> top = apps.top(10, now, MINUTE_NANOS);
            m.put("top10_app_requests", top);
            return m;
        } finally {
            tickLock.unlock();
        }
    }

    /**
     * Advances rates and windows by the whole ticks that have passed. A request thread only tries the
     * lock, so it never waits: if another thread is ticking, that thread does the work.
     */
    private void tickIfDue(long now, boolean lockHeld) {
        if (!lockHeld && !tickLock.tryLock()) {
            return;
        }
        try {
            long due = now - nextTickNanos;
            if (due < 0) {
                return;
            }
            long elapsed = due / TICK_NANOS + 1;
            long rotations = (ticks + elapsed) / TICKS_PER_MINUTE - ticks / TICKS_PER_MINUTE;
            ticks += elapsed;
            long tickTime = nextTickNanos + (elapsed - 1) * TICK_NANOS;
            nextTickNanos = tickTime + TICK_NANOS;
            total.tick(elapsed, rotations);
            components.forEach((name, figures) -> figures.tick(elapsed, rotations));
            apps.rotate(rotations, tickTime);
        } finally {
            if (!lockHeld) {
                tickLock.unlock();
            }
        }
    }
}
