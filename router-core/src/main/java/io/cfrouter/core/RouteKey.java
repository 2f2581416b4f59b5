package io.cfrouter.core;

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

    private static final String ROOT = "/";

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
     * Parses a uri as it arrives in {@code router.register}: {@code host[:port][/path][?query]}. The host is
     * lower-cased and its port dropped (requests are matched without theirs); an IPv6 literal keeps its
     * brackets ({@code [::1]:8081} becomes {@code [::1]}, a bare {@code ::1} becomes {@code [::1]}). The path
     * is lower-cased in the key and kept in its original case as the context path.
     *
     * @throws IllegalArgumentException when the uri has no host or an unclosed {@code [}
     */
    public static RouteKey parse(String uri) {
        Objects.requireNonNull(uri, "uri");
        String s = uri.trim();
        int end = s.length();
        for (int i = 0; i < end; i++) {
            char c = s.charAt(i);
            if (c == '?' || c == '#') {
                end = i;
            }
        }
        int slash = s.indexOf('/');
        if (slash > end) {
            slash = -1;
        }
        String host = hostWithoutPort(s.substring(0, slash < 0 ? end : slash), uri);
        String path = slash < 0 ? "" : trimSlashes(s.substring(slash, end));
        if (path.isEmpty()) {
            return new RouteKey(host, ROOT);
        }
        return new RouteKey(host + "/" + lowerCase(path), "/" + path);
    }

    private static String hostWithoutPort(String hostPort, String uri) {
        String host = hostPort;
        if (host.startsWith("[")) {
            int close = host.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("uri: '" + uri + "' (expected: a closing ] after an IPv6 host)");
            }
            host = host.substring(0, close + 1);
        } else {
            int colon = host.indexOf(':');
            if (colon >= 0 && host.indexOf(':', colon + 1) < 0) {
                host = host.substring(0, colon);
            } else if (colon >= 0) {
                host = "[" + host + "]";
            }
        }
        if (host.isEmpty() || host.equals("[]")) {
            throw new IllegalArgumentException("uri: '" + uri + "' (expected: host[/path])");
        }
        return lowerCase(host);
    }

    /**
     * Lower-cases {@code s} one {@code char} at a time with {@link Character#toLowerCase(char)}: the rule a
     * lookup can apply to a request in place, without building a string (unlike
     * {@link String#toLowerCase}, it never changes the length).
     */
    public static String lowerCase(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.toLowerCase(c) != c) {
                char[] chars = s.toCharArray();
                for (int j = i; j < chars.length; j++) {
                    chars[j] = Character.toLowerCase(chars[j]);
                }
                return new String(chars);
            }
        }
        return s;
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
