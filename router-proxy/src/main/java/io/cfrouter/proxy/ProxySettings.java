package io.cfrouter.proxy;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The proxy's behaviour settings (the proxy part of the router configuration). Immutable.
 *
 * @param routerHost the router's IP, for {@code X-Vcap-Router}
 * @param healthcheckUserAgent requests with this {@code User-Agent} get the router's own health answer
 * @param maxAttempts attempts per request, each on a different endpoint while untried ones remain
 * @param endpointTimeout deadline for the backend's response headers, retries included; upgraded and
 *                        tunnelled connections are not cut by it
 * @param endpointDialTimeout deadline for connecting to a backend
 * @param traceKey {@code X-Vcap-Trace} value that turns on trace headers; empty for off
 * @param secureCookies force {@code Secure} on the sticky-session cookie
 * @param stickySessionCookieNames backend cookies that start a sticky session
 * @param maxRequestHeaderBytes larger request heads (request line and headers) get 431
 */
public record ProxySettings(String routerHost, String healthcheckUserAgent, int maxAttempts,
                            Duration endpointTimeout, Duration endpointDialTimeout, String traceKey,
                            boolean secureCookies, List<String> stickySessionCookieNames,
                            int maxRequestHeaderBytes) {

    /** Validates and copies. */
    public ProxySettings {
        Objects.requireNonNull(routerHost, "routerHost");
        Objects.requireNonNull(healthcheckUserAgent, "healthcheckUserAgent");
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts: " + maxAttempts + " (expected: >= 1)");
        }
        positive(Objects.requireNonNull(endpointTimeout, "endpointTimeout"), "endpointTimeout");
        positive(Objects.requireNonNull(endpointDialTimeout, "endpointDialTimeout"), "endpointDialTimeout");
        traceKey = traceKey == null ? "" : traceKey;
        stickySessionCookieNames = List.copyOf(stickySessionCookieNames);
        if (maxRequestHeaderBytes < 1) {
            throw new IllegalArgumentException("maxRequestHeaderBytes: " + maxRequestHeaderBytes
                    + " (expected: >= 1)");
        }
    }

    private static void positive(Duration d, String name) {
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + ": " + d + " (expected: > 0)");
        }
    }

    /** The defaults of the behaviour reference. */
    public static ProxySettings defaults() {
        return new ProxySettings("127.0.0.1", "HTTP-Monitor/1.1", 3, Duration.ofSeconds(60),
                Duration.ofSeconds(5), "", false, List.of("JSESSIONID"), 1 << 20);
    }

    /** A copy with another {@code endpointTimeout}. */
    public ProxySettings withEndpointTimeout(Duration timeout) {
        return new ProxySettings(routerHost, healthcheckUserAgent, maxAttempts, timeout, endpointDialTimeout,
                traceKey, secureCookies, stickySessionCookieNames, maxRequestHeaderBytes);
    }

    /** A copy with another {@code maxAttempts}. */
    public ProxySettings withMaxAttempts(int attempts) {
        return new ProxySettings(routerHost, healthcheckUserAgent, attempts, endpointTimeout, endpointDialTimeout,
                traceKey, secureCookies, stickySessionCookieNames, maxRequestHeaderBytes);
    }

    /** A copy with another {@code traceKey}. */
    public ProxySettings withTraceKey(String key) {
        return new ProxySettings(routerHost, healthcheckUserAgent, maxAttempts, endpointTimeout, endpointDialTimeout,
                key, secureCookies, stickySessionCookieNames, maxRequestHeaderBytes);
    }

    /** A copy with another {@code secureCookies}. */
    public ProxySettings withSecureCookies(boolean secure) {
        return new ProxySettings(routerHost, healthcheckUserAgent, maxAttempts, endpointTimeout, endpointDialTimeout,
                traceKey, secure, stickySessionCookieNames, maxRequestHeaderBytes);
    }

    /** A copy with another {@code maxRequestHeaderBytes}. */
    public ProxySettings withMaxRequestHeaderBytes(int bytes) {
        return new ProxySettings(routerHost, healthcheckUserAgent, maxAttempts, endpointTimeout, endpointDialTimeout,
                traceKey, secureCookies, stickySessionCookieNames, bytes);
    }
}
