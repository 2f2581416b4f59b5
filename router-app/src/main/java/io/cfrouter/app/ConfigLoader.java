package io.cfrouter.app;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import io.cfrouter.core.LoadBalancing;
import io.cfrouter.nats.NatsServerAddress;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Reads the configuration: {@code reference.conf} defaults, overridden by the {@code --config} file, and
 * checks all of it at once. Every problem is reported as one line naming the key.
 */
final class ConfigLoader {

    private static final Set<String> LEVELS = Set.of("fatal", "error", "warn", "info", "debug");
    private static final Set<String> FORMATS = Set.of("text", "json");

    private ConfigLoader() {
    }

    /** A configuration that could not be used; {@link #problems()} has one line per key. */
    static final class InvalidConfigException extends Exception {
        private final List<String> problems;

        InvalidConfigException(List<String> problems) {
            super(String.join("\n", problems), null, false, false);
            this.problems = List.copyOf(problems);
        }

        List<String> problems() {
            return problems;
        }
    }

    /** Loads the defaults overridden by {@code file} (may be {@code null}). */
    static RouterSettings load(Path file) throws InvalidConfigException {
        Config config;
        try {
            config = parse(file).withFallback(ConfigFactory.defaultReference()).resolve();
        } catch (ConfigException e) {
            throw new InvalidConfigException(List.of(e.getMessage()));
        }
        return bind(config);
    }

    private static Config parse(Path file) throws InvalidConfigException {
        if (file == null) {
            return ConfigFactory.empty();
        }
        if (!Files.isReadable(file)) {
            throw new InvalidConfigException(List.of("--config: " + file + " (expected: a readable file)"));
        }
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        ConfigParseOptions options = ConfigParseOptions.defaults().setAllowMissing(false);
        if (name.endsWith(".json")) {
            options = options.setSyntax(ConfigSyntax.JSON);
        } else {
            options = options.setSyntax(ConfigSyntax.CONF);
        }
        return ConfigFactory.parseFile(file.toFile(), options);
    }

    static RouterSettings bind(Config c) throws InvalidConfigException {
        Binder b = new Binder(c);
        RouterSettings settings = new RouterSettings(
                b.string("host"),
                b.port("port"),
                b.intAtLeast("index", 0),
                b.port("status.port"),
                b.string("status.user"),
                b.string("status.pass"),
                b.nats(),
                b.string("logging.file"),
                b.oneOf("logging.level", LEVELS),
                b.oneOf("logging.format", FORMATS),
                b.string("access_log.file"),
                b.positiveDuration("droplet_stale_threshold"),
                b.positiveDuration("prune_stale_droplets_interval"),
                b.duration("start_response_delay_interval"),
                b.bool("suspend_pruning_if_nats_unavailable"),
                b.positiveDuration("endpoint_timeout"),
                b.positiveDuration("endpoint_dial_timeout"),
                b.positiveDuration("frontend_idle_timeout"),
                b.duration("drain_wait"),
                b.optionalDuration("drain_timeout", "endpoint_timeout"),
                b.balancing("balancing_algorithm"),
                b.intAtLeast("backends.max_conns", 0),
                b.intAtLeast("backends.max_attempts", 1),
                b.intAtLeast("max_request_header_bytes", 1),
                b.string("trace_key"),
                b.bool("secure_cookies"),
                b.stringList("sticky_session_cookie_names"),
                b.string("healthcheck_user_agent"));
        if (!b.problems.isEmpty()) {
            throw new InvalidConfigException(b.problems);
        }
        return settings;
    }

    /** Reads typed values, collecting problems instead of stopping at the first. */
    private static final class Binder {
        final Config c;
        final List<String> problems = new ArrayList<>();

        Binder(Config c) {
            this.c = c;
        }

        String string(String path) {
            try {
                ConfigValue v = c.getValue(path);
                if (v.valueType() == ConfigValueType.OBJECT || v.valueType() == ConfigValueType.LIST) {
                    problems.add(path + ": " + v.render() + " (expected: a string)");
                    return "";
                }
                return c.getString(path);
            } catch (ConfigException e) {
                problems.add(problem(path, e, "a string"));
                return "";
            }
        }

        boolean bool(String path) {
            try {
                return c.getBoolean(path);
            } catch (ConfigException e) {
                problems.add(problem(path, e, "true or false"));
                return false;
            }
        }

        int port(String path) {
            return intIn(path, 1, 65535, "1-65535");
        }

        int intAtLeast(String path, int min) {
            return intIn(path, min, Integer.MAX_VALUE, ">= " + min);
        }

        int intIn(String path, int min, int max, String expected) {
            try {
                long v = c.getLong(path);
                if (v < min || v > max) {
                    problems.add(path + ": " + v + " (expected: " + expected + ")");
                    return min;
                }
                return (int) v;
            } catch (ConfigException e) {
                problems.add(problem(path, e, "an integer " + expected));
                return min;
            }
        }

        String oneOf(String path, Set<String> allowed) {
            String v = string(path);
            if (!allowed.contains(v)) {
                problems.add(path + ": " + v + " (expected: one of " + String.join(", ", sorted(allowed)) + ")");
            }
            return v;
        }

        LoadBalancing balancing(String path) {
            String v = string(path);
            return LoadBalancing.fromWireName(v).orElseGet(() -> {
                problems.add(path + ": " + v + " (expected: round-robin or least-connection)");
                return LoadBalancing.ROUND_ROBIN;
            });
        }

        Duration duration(String path) {
            try {
                ConfigValue v = c.getValue(path);
                Duration d;
                if (v.valueType() == ConfigValueType.NUMBER) {
                    d = Duration.ofMillis(Math.round(c.getDouble(path) * 1000));
                } else {
                    d = c.getDuration(path);
                }
                if (d.isNegative()) {
                    problems.add(path + ": " + v.render() + " (expected: a duration >= 0)");
                    return Duration.ZERO;
                }
                return d;
            } catch (ConfigException e) {
                problems.add(problem(path, e, "a duration such as 120s, 2m, 500ms or a number of seconds"));
                return Duration.ZERO;
            }
        }

        Duration positiveDuration(String path) {
            Duration d = duration(path);
            if (d.isZero() && problems.stream().noneMatch(p -> p.startsWith(path + ":"))) {
                problems.add(path + ": 0 (expected: a duration > 0)");
                return Duration.ofSeconds(1);
            }
            return d.isZero() ? Duration.ofSeconds(1) : d;
        }

        Duration optionalDuration(String path, String fallbackPath) {
            if (c.hasPath(path) && c.getValue(path).valueType() == ConfigValueType.STRING
                    && c.getString(path).isEmpty()) {
                return duration(fallbackPath);
            }
            return duration(path);
        }

        List<String> stringList(String path) {
            try {
                return c.getStringList(path);
            } catch (ConfigException e) {
                problems.add(problem(path, e, "a list of strings"));
                return List.of();
            }
        }

        List<NatsServerAddress> nats() {
            List<NatsServerAddress> servers = new ArrayList<>();
            try {
                List<? extends Config> list = c.getConfigList("nats");
                if (list.isEmpty()) {
                    problems.add("nats: [] (expected: at least one server)");
                }
                for (int i = 0; i < list.size(); i++) {
                    Binder b = new Binder(list.get(i).withFallback(
                            ConfigFactory.parseString("host = \"127.0.0.1\", port = 4222, user = \"\", pass = \"\"")));
                    String host = b.string("host");
                    int port = b.port("port");
                    String user = b.string("user");
                    String pass = b.string("pass");
                    for (String p : b.problems) {
                        problems.add("nats." + i + "." + p);
                    }
                    if (b.problems.isEmpty()) {
                        servers.add(new NatsServerAddress(host, port, user, pass));
                    }
                }
            } catch (ConfigException e) {
                problems.add(problem("nats", e, "a list of {host, port, user, pass}"));
            }
            return servers;
        }

        private static List<String> sorted(Set<String> s) {
            return s.stream().sorted().toList();
        }

        private String problem(String path, ConfigException e, String expected) {
            if (e instanceof ConfigException.Missing) {
                return path + ": missing (expected: " + expected + ")";
            }
            String given = c.hasPathOrNull(path) && !c.getIsNull(path) ? c.getValue(path).render() : "null";
            return path + ": " + given + " (expected: " + expected + ")";
        }
    }
}
