package io.cfrouter.proxy;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The proxy's behaviour settings (the proxy part of the router configuration).
 *
 * @param routerHost the router's IP, for {@code X-Vcap-Router}
 * @param healthcheckUserAgent requests with this {@code User-Agent} get the router's own health answer
 * @param maxAttempts attempts per request, each on a different endpoint while untried ones remain
 * @param endpointTimeout deadline for the backend's response headers, retries included
 * @param endpointDialTimeout deadline for connecting to a backend
 * @param traceKey {@code X-Vcap-Trace} value that turns on trace headers; empty for off
 * @param secureCookies force {@code Secure} on the sticky-session cookie
 * @param stickySessionCookieNames backend cookies that start a sticky session
 * @param maxRequestHeaderBytes larger request headers get 431
 */
public record ProxySettings(String routerHost, String healthcheckUserAgent, int maxAttempts,
                            Duration endpointTimeout, Duration endpointDialTimeout, String traceKey,
                            boolean secureCookies, List<String> stickySessionCookieNames,
                            int maxRequestHeaderBytes) {

    /** Validates. */
    public ProxySettings {
        Objects.requireNonNull(routerHost, "routerHost");
        Objects.requireNonNull(healthcheckUserAgent, "healthcheckUserAgent");
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts: " + maxAttempts + " (expected: >= 1)");
        }
        Objects.requireNonNull(endpointTimeout, "endpointTimeout");
        Objects.requireNonNull(endpointDialTimeout, "endpointDialTimeout");
        traceKey = traceKey == null ? "" : traceKey;
        stickySessionCookieNames = List.copyOf(stickySessionCookieNames);
        if (maxRequestHeaderBytes < 1) {
            throw new IllegalArgumentException("maxRequestHeaderBytes: " + maxRequestHeaderBytes
                    + " (expected: >= 1)");
        }
    }

    /** The defaults of the behaviour reference. */
    public static ProxySettings defaults() {
        return new ProxySettings("127.0.0.1", "HTTP-Monitor/1.1", 3, Duration.ofSeconds(60),
                Duration.ofSeconds(5), "", false, List.of("JSESSIONID"), 1 << 20);
    }
}
