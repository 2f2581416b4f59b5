package io.cfrouter.app;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigResolveOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigValueType;
import io.cfrouter.core.LoadBalancing;
import io.cfrouter.nats.NatsServerAddress;
import io.cfrouter.proxy.ProxyEngine;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.schema.CoreSchema;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads the configuration: {@code reference.conf} defaults, overridden by the {@code --config} file
 * (HOCON, JSON, or YAML in the {@code gorouter.yml} layout), and checks all of it at once. Every problem
 * is one line naming the key; nothing here logs (logging is configured from the result).
 */
final class ConfigLoader {

    private static final Set<String> LEVELS = Set.of("fatal", "error", "warn", "info", "debug");
    private static final Set<String> FORMATS = Set.of("text", "json");
    private static final Set<String> NATS_KEYS = Set.of("host", "port", "user", "pass");
    private static final Config NATS_DEFAULTS =
            ConfigFactory.parseString("host = \"127.0.0.1\", port = 4222, user = \"\", pass = \"\"");
    /** A duration written without a unit: seconds, as in gorouter.yml (Typesafe would read milliseconds). */
    private static final Pattern BARE_NUMBER = Pattern.compile("[+-]?\\d+(\\.\\d+)?");
    private static final String DURATION = "a duration such as 120s, 2m, 500ms or a number of seconds";

    private ConfigLoader() {
    }

    /** A configuration that could not be used; {@link #problems()} has one line per problem. */
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

    /**
     * The checked settings, and what deserves a warning once logging is up.
     *
     * @param settings the settings
     * @param unknownKeys keys of the file that the router does not read, e.g. {@code logging.syslog}, sorted
     */
    record Loaded(RouterSettings settings, List<String> unknownKeys) {
        Loaded {
            unknownKeys = unknownKeys.stream().sorted().toList();
        }
    }

    /**
     * Loads the defaults overridden by {@code file}.
     *
     * @param file the {@code --config} file, or {@code null} for the defaults alone
     * @param env the environment, for {@code ${?VAR}} substitutions
     */
    static Loaded load(Path file, Map<String, String> env) throws InvalidConfigException {
        Config reference = ConfigFactory.defaultReferenceUnresolved();
        Config given = file == null ? ConfigFactory.empty() : parse(file);
        List<String> unknown = new ArrayList<>();
        unknownKeys(given.root(), reference.root(), List.of(), unknown);
        Config resolved;
        try {
            resolved = given.withFallback(reference)
                    .withFallback(ConfigValueFactory.fromMap(env, "environment").toConfig())
                    .resolve(ConfigResolveOptions.defaults().setUseSystemEnvironment(false));
        } catch (ConfigException e) {
            throw new InvalidConfigException(List.of(oneLine(e)));
        }
        return new Loaded(bind(resolved), unknown);
    }

    /** Parses {@code file} by its extension, without defaults. */
    static Config parse(Path file) throws InvalidConfigException {
        if (!Files.exists(file)) {
            throw invalid("--config: " + file + ": no such file");
        }
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw invalid("--config: " + file + " (expected: a readable file)");
        }
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".yml") || name.endsWith(".yaml")) {
            return parseYaml(file);
        }
        ConfigSyntax syntax;
        if (name.endsWith(".json")) {
            syntax = ConfigSyntax.JSON;
        } else if (name.endsWith(".conf")) {
            syntax = ConfigSyntax.CONF;
        } else {
            throw invalid("--config: " + file + " (expected: a .conf, .json, .yml or .yaml file)");
        }
        try {
            return ConfigFactory.parseFile(file.toFile(),
                    ConfigParseOptions.defaults().setAllowMissing(false).setSyntax(syntax));
        } catch (ConfigException e) {
            throw invalid(oneLine(e));
        }
    }

    private static Config parseYaml(Path file) throws InvalidConfigException {
        LoadSettings settings = LoadSettings.builder()
                .setLabel(file.toString())
                .setSchema(new CoreSchema())
                .build();
        Object root;
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            root = new Load(settings).loadFromReader(reader);
        } catch (MarkedYamlEngineException e) {
            Optional<Mark> mark = e.getProblemMark().or(e::getContextMark);
            String problem = e.getProblem() != null ? e.getProblem() : e.getContext();
            throw invalid(file + mark.map(m -> ":" + (m.getLine() + 1)).orElse("") + ": " + flat(problem));
        } catch (YamlEngineException e) {
            throw invalid(file + ": " + flat(e.getMessage()));
        } catch (IOException | RuntimeException e) {
            throw invalid("--config: " + file + ": " + flat(e.getMessage()));
        }
        if (root == null) {
            return ConfigFactory.empty();
        }
        if (!(root instanceof Map<?, ?> map)) {
            throw invalid(file + ": a " + typeName(root) + " at the top (expected: a mapping of keys)");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> tree = (Map<String, Object>) plain(map);
        // fromMap, not parseMap: YAML keys are keys, a dot in one is not a path.
        return ConfigValueFactory.fromMap(tree, file.getFileName().toString()).toConfig();
    }

    /** The YAML tree with string keys and only the value types Typesafe Config takes. */
    private static Object plain(Object node) {
        if (node instanceof Map<?, ?> map) {
            Map<String, Object> out = new LinkedHashMap<>();
            map.forEach((k, v) -> out.put(String.valueOf(k), plain(v)));
            return out;
        }
        if (node instanceof List<?> list) {
            List<Object> out = new ArrayList<>(list.size());
            list.forEach(v -> out.add(plain(v)));
            return out;
        }
        if (node == null || node instanceof String || node instanceof Number || node instanceof Boolean) {
            return node;
        }
        return String.valueOf(node);
    }

    private static String typeName(Object node) {
        return node instanceof List ? "list" : "value";
    }

    private static void unknownKeys(ConfigObject given, ConfigObject known, List<String> prefix, List<String> out) {
        for (String key : given.keySet()) {
            List<String> path = new ArrayList<>(prefix);
            path.add(key);
            ConfigValue knownValue = known.get(key);
            ConfigValue givenValue = given.get(key);
            if (knownValue == null) {
                out.add(ConfigUtil.joinPath(path));
            } else if (givenValue instanceof ConfigObject g && knownValue instanceof ConfigObject k) {
                unknownKeys(g, k, path, out);
            } else if (path.equals(List.of("nats")) && givenValue instanceof ConfigList servers) {
                for (int i = 0; i < servers.size(); i++) {
                    if (servers.get(i) instanceof ConfigObject server) {
                        for (String serverKey : server.keySet()) {
                            if (!NATS_KEYS.contains(serverKey)) {
                                out.add("nats[" + i + "]." + ConfigUtil.quoteString(serverKey).replace("\"", ""));
                            }
                        }
                    }
                }
            }
        }
    }

    /** A Typesafe Config error as {@code file:line: message}. */
    static String oneLine(ConfigException e) {
        ConfigOrigin origin = e.origin();
        String message = e.getMessage();
        if (origin == null) {
            return flat(message);
        }
        String prefix = origin.description() + ": ";
        if (message.startsWith(prefix)) {
            message = message.substring(prefix.length());
        }
        String where = origin.filename() != null ? origin.filename() : origin.description();
        return where + (origin.lineNumber() > 0 ? ":" + origin.lineNumber() : "") + ": " + flat(message);
    }

    private static String flat(String s) {
        return s == null ? "unreadable" : s.replaceAll("\\s*\\R\\s*", " ").trim();
    }

    private static InvalidConfigException invalid(String problem) {
        return new InvalidConfigException(List.of(problem));
    }

    /** Binds a resolved configuration (defaults included) to the settings, or lists every problem. */
    static RouterSettings bind(Config c) throws InvalidConfigException {
        Binder b = new Binder(c);
        RouterSettings settings = new RouterSettings(
                b.nonEmptyString("host"),
                b.port("port"),
                b.intAtLeast("index", 0),
                b.port("status.port"),
                b.string("status.user"),
                b.string("status.pass"),
                b.nats(),
                b.writableFile("logging.file"),
                b.oneOf("logging.level", LEVELS),
                b.oneOf("logging.format", FORMATS),
                b.writableFile("access_log.file"),
                b.duration("droplet_stale_threshold", false),
                b.duration("prune_stale_droplets_interval", false),
                b.duration("start_response_delay_interval", true),
                b.bool("suspend_pruning_if_nats_unavailable"),
                b.duration("endpoint_timeout", false),
                b.duration("endpoint_dial_timeout", false),
                b.duration("frontend_idle_timeout", false),
                b.duration("read_header_timeout", false),
                b.duration("drain_wait", true),
                b.duration("drain_timeout", true),
                b.balancing("balancing_algorithm"),
                b.intAtLeast("backends.max_conns", 0),
                b.intAtLeast("backends.max_attempts", 1),
                b.bytes("max_request_header_bytes"),
                b.string("trace_key"),
                b.bool("secure_cookies"),
                b.stringList("sticky_session_cookie_names"),
                b.nonEmptyString("healthcheck_user_agent"),
                b.intAtLeast("proxy_io_threads", 0),
                b.intAtLeast("proxy_worker_threads", 0),
                b.engine("proxy_engine"));
        if (!b.problems.isEmpty()) {
            throw new InvalidConfigException(b.problems);
        }
        return settings;
    }

    /** Reads typed values, collecting problems instead of stopping at the first. */
    private static final class Binder {
        private Config c;
        final List<String> problems = new ArrayList<>();

        Binder(Config config) {
            this.c = config;
            // A section (status, logging, ...) given as a scalar would fail every key below it: report the
            // section once and read its keys from the defaults.
            // The defaults alone: defaultReference() would mix in system properties (user.*, java.*).
            ConfigObject reference = ConfigFactory.defaultReferenceUnresolved()
                    .resolve(ConfigResolveOptions.defaults().setUseSystemEnvironment(false)).root();
            for (String section : reference.keySet()) {
                if (reference.get(section).valueType() == ConfigValueType.OBJECT && c.hasPath(section)
                        && c.getValue(section).valueType() != ConfigValueType.OBJECT) {
                    problems.add(section + ": " + shown(c.getValue(section)) + " (expected: an object)");
                    c = c.withValue(section, reference.get(section));
                }
            }
        }

        String string(String path) {
            try {
                ConfigValue v = c.getValue(path);
                if (v.valueType() == ConfigValueType.OBJECT || v.valueType() == ConfigValueType.LIST) {
                    problems.add(path + ": " + shown(v) + " (expected: a string)");
                    return "";
                }
                return c.getString(path);
            } catch (ConfigException e) {
                problems.add(problem(path, e, "a string"));
                return "";
            }
        }

        String nonEmptyString(String path) {
            int before = problems.size();
            String v = string(path);
            if (v.isBlank() && problems.size() == before) {
                problems.add(path + ": \"" + v + "\" (expected: a non-empty string)");
            }
            return v;
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

        private int intIn(String path, int min, int max, String expected) {
            try {
                ConfigValue v = c.getValue(path);
                Number n = c.getNumber(path);
                if (n.doubleValue() != Math.rint(n.doubleValue())) {
                    problems.add(path + ": " + shown(v) + " (expected: an integer " + expected + ")");
                    return min;
                }
                long value = n.longValue();
                if (value < min || value > max) {
                    problems.add(path + ": " + value + " (expected: " + expected + ")");
                    return min;
                }
                return (int) value;
            } catch (ConfigException e) {
                problems.add(problem(path, e, "an integer " + expected));
                return min;
            }
        }

        int bytes(String path) {
            try {
                long v = c.getBytes(path);
                if (v < 1 || v > Integer.MAX_VALUE) {
                    problems.add(path + ": " + v + " (expected: 1-" + Integer.MAX_VALUE + " bytes)");
                    return 1;
                }
                return (int) v;
            } catch (ConfigException e) {
                problems.add(problem(path, e, "a size in bytes such as 1048576, 512k or 1MiB"));
                return 1;
            }
        }

        String oneOf(String path, Set<String> allowed) {
            int before = problems.size();
            String v = string(path);
            if (problems.size() == before && !allowed.contains(v)) {
                String choices = String.join(", ", allowed.stream().sorted().toList());
                problems.add(path + ": " + v + " (expected: one of " + choices + ")");
            }
            return v;
        }

        ProxyEngine engine(String path) {
            int before = problems.size();
            String v = string(path);
            for (ProxyEngine engine : ProxyEngine.values()) {
                if (engine.name().equalsIgnoreCase(v)) {
                    return engine;
                }
            }
            if (problems.size() == before) {
                problems.add(path + ": " + v + " (expected: forwarder or undertow)");
            }
            return ProxyEngine.FORWARDER;
        }

        LoadBalancing balancing(String path) {
            int before = problems.size();
            String v = string(path);
            Optional<LoadBalancing> lb = LoadBalancing.fromWireName(v);
            if (lb.isEmpty() && problems.size() == before) {
                problems.add(path + ": " + v + " (expected: round-robin or least-connection)");
            }
            return lb.orElse(LoadBalancing.ROUND_ROBIN);
        }

        Duration duration(String path, boolean zeroAllowed) {
            Duration fallback = Duration.ofSeconds(1);
            try {
                ConfigValue v = c.getValue(path);
                Duration d;
                if (v.valueType() == ConfigValueType.NUMBER) {
                    d = seconds(c.getDouble(path));
                } else if (v.valueType() == ConfigValueType.STRING
                        && BARE_NUMBER.matcher(c.getString(path).trim()).matches()) {
                    d = seconds(Double.parseDouble(c.getString(path).trim()));
                } else {
                    d = c.getDuration(path);
                }
                if (d.isNegative() || (d.isZero() && !zeroAllowed)) {
                    problems.add(path + ": " + shown(v) + " (expected: a duration " + (zeroAllowed ? ">= 0" : "> 0")
                            + ")");
                    return fallback;
                }
                return d;
            } catch (ConfigException e) {
                problems.add(problem(path, e, DURATION));
                return fallback;
            }
        }

        private static Duration seconds(double s) {
            return Duration.ofNanos(Math.round(s * 1e9));
        }

        List<String> stringList(String path) {
            try {
                return c.getStringList(path);
            } catch (ConfigException e) {
                problems.add(problem(path, e, "a list of strings"));
                return List.of();
            }
        }

        String writableFile(String path) {
            int before = problems.size();
            String name = string(path);
            if (name.isEmpty() || problems.size() > before) {
                return name;
            }
            try {
                Path file = Path.of(name).toAbsolutePath();
                Path dir = file.getParent();
                if (Files.isDirectory(file)) {
                    problems.add(path + ": " + name + " (expected: a file, not a directory)");
                } else if (Files.exists(file) ? !Files.isWritable(file)
                        : dir == null || !Files.isDirectory(dir) || !Files.isWritable(dir)) {
                    problems.add(path + ": " + name + " (expected: a writable file in an existing directory)");
                }
            } catch (InvalidPathException e) {
                problems.add(path + ": " + name + " (expected: a file name)");
            }
            return name;
        }

        List<NatsServerAddress> nats() {
            List<NatsServerAddress> servers = new ArrayList<>();
            List<? extends Config> list;
            try {
                list = c.getConfigList("nats");
            } catch (ConfigException e) {
                problems.add(problem("nats", e, "a list of {host, port, user, pass}"));
                return servers;
            }
            if (list.isEmpty()) {
                problems.add("nats: [] (expected: at least one server)");
            }
            for (int i = 0; i < list.size(); i++) {
                Binder b = new Binder(list.get(i).withFallback(NATS_DEFAULTS));
                String host = b.nonEmptyString("host");
                int port = b.port("port");
                String user = b.string("user");
                String pass = b.string("pass");
                for (String p : b.problems) {
                    problems.add("nats[" + i + "]." + p);
                }
                if (b.problems.isEmpty()) {
                    servers.add(new NatsServerAddress(host, port, user, pass));
                }
            }
            return servers;
        }

        private String problem(String path, ConfigException e, String expected) {
            if (e instanceof ConfigException.Null) {
                return path + ": null (expected: " + expected + ")";
            }
            if (e instanceof ConfigException.Missing) {
                return path + ": missing (expected: " + expected + ")";
            }
            try {
                return path + ": " + shown(c.getValue(path)) + " (expected: " + expected + ")";
            } catch (ConfigException notReadable) {
                return path + ": " + flat(e.getMessage()) + " (expected: " + expected + ")";
            }
        }

        private static String shown(ConfigValue v) {
            return switch (v.valueType()) {
                case OBJECT, LIST -> v.render(ConfigRenderOptions.concise());
                case NULL -> "null";
                default -> String.valueOf(v.unwrapped());
            };
        }
    }
}
