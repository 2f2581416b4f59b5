package io.cfrouter.nats;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * One NATS server of the {@code nats} list.
 *
 * @param host server host
 * @param port server port, 1-65535
 * @param user user name, or empty
 * @param pass password, or empty
 */
public record NatsServerAddress(String host, int port, String user, String pass) {

    /** Validates. */
    public NatsServerAddress {
        Objects.requireNonNull(host, "host");
        if (host.isBlank()) {
            throw new IllegalArgumentException("host: empty (expected: a host name or IP)");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port: " + port + " (expected: 1-65535)");
        }
        user = user == null ? "" : user;
        pass = pass == null ? "" : pass;
    }

    /** The client URL, credentials included when set. */
    public String url() {
        String h = host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
        if (user.isEmpty()) {
            return "nats://" + h + ":" + port;
        }
        return "nats://" + encode(user) + ":" + encode(pass) + "@" + h + ":" + port;
    }

    /** {@code host:port}, without credentials, for logs. */
    @Override
    public String toString() {
        return host + ":" + port;
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
