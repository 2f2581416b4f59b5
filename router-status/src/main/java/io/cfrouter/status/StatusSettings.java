package io.cfrouter.status;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Objects;

/**
 * Where the status server listens and who may read it.
 *
 * @param host listen address
 * @param port listen port, 0-65535 (0 picks a free one)
 * @param user basic-auth user for {@code /varz} and {@code /routes}; empty means "generate one"
 *             (see {@link #withGeneratedCredentials()})
 * @param pass basic-auth password; empty means "generate one"
 */
public record StatusSettings(String host, int port, String user, String pass) {

    private static final SecureRandom RANDOM = new SecureRandom();

    /** Validates. */
    public StatusSettings {
        Objects.requireNonNull(host, "host");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port: " + port + " (expected: 0-65535)");
        }
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(pass, "pass");
    }

    /**
     * These settings with a random user and/or password (24 hex digits from a {@link SecureRandom}) in
     * place of an empty one. The status server calls this at start-up; the generated values can then only
     * be learnt from the server itself (its {@code vcap.component.discover} answer).
     */
    public StatusSettings withGeneratedCredentials() {
        if (!user.isEmpty() && !pass.isEmpty()) {
            return this;
        }
        return new StatusSettings(host, port, user.isEmpty() ? randomToken() : user,
                pass.isEmpty() ? randomToken() : pass);
    }

    @Override
    public String toString() {
        return "StatusSettings[host=" + host + ", port=" + port + ", user=" + user + ", pass=****]";
    }

    private static String randomToken() {
        byte[] bytes = new byte[12];
        RANDOM.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }
}
