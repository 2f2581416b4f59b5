package io.cfrouter.core;

import java.util.Locale;
import java.util.Objects;

/**
 * The key of a route in the routing table: the lower-cased {@code host[/path]} of a registered uri, with
 * the query dropped and the leading and trailing {@code /} of the path trimmed. The original-case path is
 * kept as {@link #contextPath()}, for the {@code Path} attribute of the sticky-session cookie.
 *
 * <p>Instances are immutable and compare by {@link #key()} only.
 *
 * @param key the normalised key, e.g. {@code app.example.com/api/v1}; never empty
 * @param contextPath the original-case path with a leading {@code /}, or {@code /} when the route has none
 */
public record RouteKey(String key, String contextPath) {

    /** Validates both parts; use {@link #parse(String)} to build one from a registered uri. */
    public RouteKey {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(contextPath, "contextPath");
        if (key.isEmpty()) {
            throw new IllegalArgumentException("key: empty (expected: host[/path])");
        }
        if (!contextPath.startsWith("/")) {
            throw new IllegalArgumentException("contextPath: " + contextPath + " (expected: starting with /)");
        }
    }

    /**
     * Parses a uri as it arrives in {@code router.register}: {@code host[:port][/path][?query]}.
     *
     * @throws IllegalArgumentException when the uri has no host
     */
    public static RouteKey parse(String uri) {
        Objects.requireNonNull(uri, "uri");
        String s = uri.trim();
        int query = s.indexOf('?');
        if (query >= 0) {
            s = s.substring(0, query);
        }
        int fragment = s.indexOf('#');
        if (fragment >= 0) {
            s = s.substring(0, fragment);
        }
        int slash = s.indexOf('/');
        String host = slash < 0 ? s : s.substring(0, slash);
        String path = slash < 0 ? "" : trimSlashes(s.substring(slash));
        host = host.toLowerCase(Locale.ROOT);
        if (host.isEmpty()) {
            throw new IllegalArgumentException("uri: '" + uri + "' (expected: host[/path])");
        }
        String key = path.isEmpty() ? host : host + "/" + path.toLowerCase(Locale.ROOT);
        return new RouteKey(key, "/" + path);
    }

    /** The host part of the key (lower case, possibly a {@code *.} wildcard). */
    public String host() {
        int slash = key.indexOf('/');
        return slash < 0 ? key : key.substring(0, slash);
    }

    /** Whether the key is a wildcard ({@code *.domain}). */
    public boolean isWildcard() {
        return key.startsWith("*.");
    }

    private static String trimSlashes(String path) {
        int from = 0;
        int to = path.length();
        while (from < to && path.charAt(from) == '/') {
            from++;
        }
        while (to > from && path.charAt(to - 1) == '/') {
            to--;
        }
        return path.substring(from, to);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RouteKey other && key.equals(other.key);
    }

    @Override
    public int hashCode() {
        return key.hashCode();
    }

    @Override
    public String toString() {
        return key;
    }
}
