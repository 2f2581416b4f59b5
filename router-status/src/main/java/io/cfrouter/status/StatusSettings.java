package io.cfrouter.status;

import java.util.Objects;

/**
 * Where the status server listens and who may read it.
 *
 * @param host listen address
 * @param port listen port, 0-65535 (0 picks a free one)
 * @param user basic-auth user for {@code /varz} and {@code /routes}
 * @param pass basic-auth password
 */
public record StatusSettings(String host, int port, String user, String pass) {

    /** Validates. */
    public StatusSettings {
        Objects.requireNonNull(host, "host");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port: " + port + " (expected: 0-65535)");
        }
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(pass, "pass");
    }

    @Override
    public String toString() {
        return "StatusSettings[host=" + host + ", port=" + port + ", user=" + user + ", pass=****]";
    }
}
