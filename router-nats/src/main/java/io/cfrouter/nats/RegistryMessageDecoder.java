package io.cfrouter.nats;

import io.cfrouter.core.Endpoint;
import io.cfrouter.core.LoadBalancing;
import io.cfrouter.core.RouteKey;
import io.cfrouter.core.RouteRegistration;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Decodes {@code router.register} and {@code router.unregister} payloads (behaviour reference §1.1). A pure
 * function: bytes in, a {@link RouteRegistration} or the reason it was refused out; it never throws, and is
 * safe to call from any thread.
 *
 * <p>The JSON must be strict (RFC 8259) UTF-8 holding one object; unknown keys are ignored; when a key
 * repeats, the last value counts. Nesting is bounded, as are the message size and the number of uris.
 */
public final class RegistryMessageDecoder {

    /** Messages larger than this are refused without parsing. */
    public static final int MAX_MESSAGE_BYTES = 1 << 20;
    /** At most this many uris per message. */
    public static final int MAX_URIS = 10_000;

    private static final long MAX_STALE_SECONDS = 100L * 365 * 24 * 3600;

    private RegistryMessageDecoder() {
    }

    /**
     * The outcome of decoding one message: exactly one of the two is set.
     *
     * @param registration the decoded message, or null when it was refused
     * @param error why it was refused (one line), or null when it was valid
     */
    public record Result(RouteRegistration registration, String error) {

        /** Whether the message was valid. */
        public boolean isValid() {
            return registration != null;
        }
    }

    /**
     * Decodes one message.
     *
     * @param payload the raw message body
     * @param warnings told about ignored parts of a valid message (e.g. an unknown balancing value); never
     *                 called for a refused one
     * @return the registration, or the reason the message was refused
     */
    public static Result decode(byte[] payload, Consumer<String> warnings) {
        try {
            Fields f = new Fields();
            RouteRegistration registration = parse(payload, f);
            // Only a message that is kept is worth warning about: a refused one gets its single reason.
            if (f.warnings != null) {
                f.warnings.forEach(warnings);
            }
            return new Result(registration, null);
        } catch (InvalidMessage e) {
            return new Result(null, e.getMessage());
        } catch (RuntimeException | StackOverflowError e) {
            return new Result(null, "unreadable message: " + e);
        }
    }

    /** The keys this decoder reads, in the order of {@link Fields#at}. */
    private static final String[] KEYS = {"host", "port", "tls_port", "uris", "tags", "app", "private_instance_id",
            "private_instance_index", "stale_threshold_in_seconds", "route_service_url", "options"};
    private static final int HOST = 0;
    private static final int PORT = 1;
    private static final int TLS_PORT = 2;
    private static final int URIS = 3;
    private static final int TAGS = 4;
    private static final int APP = 5;
    private static final int INSTANCE_ID = 6;
    private static final int INSTANCE_INDEX = 7;
    private static final int STALE = 8;
    private static final int ROUTE_SERVICE = 9;
    private static final int OPTIONS = 10;

    /** One message's decoding state: where each known key's (last) value starts, and the warnings so far. */
    private static final class Fields {
        /** Value positions by key index ({@link #KEYS}); -1 when absent. Later keys overwrite. */
        final int[] at = {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
        /** Created at the first warning: nearly every message has none. */
        List<String> warnings;

        void warn(String warning) {
            if (warnings == null) {
                warnings = new ArrayList<>(2);
            }
            warnings.add(warning);
        }
    }

    private static RouteRegistration parse(byte[] payload, Fields f) {
        if (payload == null || payload.length == 0) {
            throw new InvalidMessage("empty message");
        }
        if (payload.length > MAX_MESSAGE_BYTES) {
            throw new InvalidMessage("message of " + payload.length + " bytes (expected: at most "
                    + MAX_MESSAGE_BYTES + ")");
        }
        JsonCursor c = new JsonCursor(payload, 0, payload.length);
        try {
            if (c.atEnd()) {
                throw new InvalidMessage("empty message");
            }
            // One pass checks the whole document (UTF-8 in strings included) and notes where each known
            // key's (last) value starts; the fields are read afterwards, so that malformed JSON anywhere is
            // reported as such first.
            boolean object = c.peek() == JsonCursor.Kind.OBJECT;
            if (object) {
                c.beginObject();
                for (int key = c.nextKeyIndex(true, KEYS); key != JsonCursor.END; key = c.nextKeyIndex(false, KEYS)) {
                    int at = c.skipValue();
                    if (key >= 0) {
                        f.at[key] = at;
                    }
                }
            } else {
                c.skipValue();
            }
            if (!c.atEnd()) {
                throw new InvalidMessage("trailing data after the JSON object");
            }
            if (!object) {
                throw new InvalidMessage("not a JSON object");
            }
        } catch (JsonCursor.Malformed e) {
            checkUtf8(payload);
            throw new InvalidMessage("not JSON: " + e.getMessage());
        } catch (JsonCursor.InvalidUtf8 e) {
            throw new InvalidMessage("invalid UTF-8");
        } catch (InvalidMessage e) {
            checkUtf8(payload);
            throw e;
        }
        return registration(c, f);
    }

    /*
     * A well-formed document has non-ASCII bytes only inside strings, which the cursor validates as it
     * goes. A refused one may have them anywhere: it is checked whole before its reason is given, so that
     * an invalid sequence anywhere is called what it is.
     */
    private static void checkUtf8(byte[] payload) {
        for (byte b : payload) {
            if (b < 0) {
                try {
                    StandardCharsets.UTF_8.newDecoder()
                            .onMalformedInput(CodingErrorAction.REPORT)
                            .onUnmappableCharacter(CodingErrorAction.REPORT)
                            .decode(ByteBuffer.wrap(payload));
                    return;
                } catch (CharacterCodingException e) {
                    throw new InvalidMessage("invalid UTF-8");
                }
            }
        }
    }

    private static RouteRegistration registration(JsonCursor c, Fields f) {
        String host = string(c, f.at[HOST], "host", true);
        if (host.isEmpty()) {
            throw new InvalidMessage("host: empty");
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        checkHost(host);
        int port = port(c, f);
        List<RouteKey> routes = uris(c, f.at[URIS]);
        Map<String, String> tags = tags(c, f.at[TAGS]);
        String app = string(c, f.at[APP], "app", false);
        String instanceId = string(c, f.at[INSTANCE_ID], "private_instance_id", false);
        String instanceIndex = string(c, f.at[INSTANCE_INDEX], "private_instance_index", false);
        long staleSeconds = staleSeconds(c, f.at[STALE]);
        Duration stale = staleSeconds == 0 ? Duration.ZERO : Duration.ofSeconds(staleSeconds);
        String routeService = string(c, f.at[ROUTE_SERVICE], "route_service_url", false);
        if (!routeService.isEmpty()) {
            if (!routeService.regionMatches(true, 0, "https://", 0, 8)) {
                throw new InvalidMessage("route_service_url: " + abbreviate(routeService) + " (expected: an https URL)");
            }
            f.warn("route_service_url ignored (route services are not supported yet)");
        }
        LoadBalancing balancing = balancing(c, f.at[OPTIONS], f);
        return new RouteRegistration(
                new Endpoint(host, port, app, instanceId, instanceIndex, tags, stale, balancing), routes);
    }

    /** The kind of the value at {@code position}, the cursor left on it; null when absent or JSON null. */
    private static JsonCursor.Kind kindAt(JsonCursor c, int position) {
        if (position < 0) {
            return null;
        }
        c.seek(position);
        JsonCursor.Kind kind = c.peek();
        return kind == JsonCursor.Kind.NULL ? null : kind;
    }

    private static String string(JsonCursor c, int position, String key, boolean required) {
        JsonCursor.Kind kind = kindAt(c, position);
        if (kind == null) {
            if (required) {
                throw new InvalidMessage(key + ": missing");
            }
            return "";
        }
        if (kind != JsonCursor.Kind.STRING) {
            throw wrongType(c, position, key, "a string");
        }
        return c.nextString();
    }

    private static InvalidMessage wrongType(JsonCursor c, int position, String key, String expected) {
        c.seek(position);
        c.skipValue();
        return new InvalidMessage(key + ": " + c.text(position) + " (expected: " + expected + ")");
    }

    /*
     * tls_port is validated but not used until the proxy speaks TLS to backends (a later section of the
     * reference): routing plain HTTP to a TLS port would fail every request, so the plain port is used.
     */
    private static int port(JsonCursor c, Fields f) {
        int port = optionalPort(c, f.at[PORT], "port");
        int tlsPort = optionalPort(c, f.at[TLS_PORT], "tls_port");
        if (port == 0) {
            throw new InvalidMessage(tlsPort == 0 ? "port: missing"
                    : "port: missing (tls_port " + tlsPort + " given, but TLS to backends is not supported yet)");
        }
        if (tlsPort != 0) {
            f.warn("tls_port: " + tlsPort + " ignored (TLS to backends is not supported yet; using port "
                    + port + ")");
        }
        return port;
    }

    /** The port at {@code position}, or 0 when absent. */
    private static int optionalPort(JsonCursor c, int position, String key) {
        JsonCursor.Kind kind = kindAt(c, position);
        if (kind == null) {
            return 0;
        }
        long port = integer(c, kind, position, key);
        if (port < 1 || port > 65535) {
            throw new InvalidMessage(key + ": " + port + " (expected: 1-65535)");
        }
        return (int) port;
    }

    /** The integer at {@code position}, of the given (non-null) kind, the cursor on it. */
    private static long integer(JsonCursor c, JsonCursor.Kind kind, int position, String key) {
        if (kind != JsonCursor.Kind.NUMBER) {
            throw wrongType(c, position, key, "an integer");
        }
        long plain = c.nextLong();
        if (plain != JsonCursor.NOT_PLAIN) {
            return plain;
        }
        String literal = c.nextNumber();
        try {
            return new BigDecimal(literal).longValueExact();
        } catch (ArithmeticException | NumberFormatException e) {
            throw new InvalidMessage(key + ": " + abbreviate(literal) + " (expected: an integer)");
        }
    }

    private static void checkHost(String host) {
        if (host.length() > 255) {
            throw new InvalidMessage("host: " + abbreviate(host) + " (expected: an IP or a host name)");
        }
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if (c <= ' ' || c == 0x7f || c == '/' || c == '?' || c == '#' || c == '@' || c == '[' || c == ']') {
                throw new InvalidMessage("host: " + abbreviate(host) + " (expected: an IP or a host name)");
            }
        }
    }

    private static List<RouteKey> uris(JsonCursor c, int position) {
        JsonCursor.Kind kind = kindAt(c, position);
        if (kind == null) {
            throw new InvalidMessage("uris: missing");
        }
        if (kind != JsonCursor.Kind.ARRAY) {
            throw wrongType(c, position, "uris", "an array of strings");
        }
        // Keys are parsed as the strings are read; a uri that is not a key is reported only once every
        // element is known to be a string, as the type error comes first.
        RouteKey first = null;
        List<RouteKey> routes = null;
        String typeError = null;
        String keyError = null;
        int count = 0;
        c.beginArray();
        for (boolean head = true; c.hasNextElement(head); head = false) {
            count++;
            if (count > MAX_URIS || typeError != null) {
                c.skipValue();
                continue;
            }
            if (c.peek() != JsonCursor.Kind.STRING) {
                int start = c.skipValue();
                typeError = "uris: " + c.text(start) + " (expected: a string)";
                continue;
            }
            String uri = c.nextString();
            if (keyError != null) {
                continue;
            }
            RouteKey key;
            try {
                key = RouteKey.parse(uri);
            } catch (IllegalArgumentException e) {
                keyError = e.getMessage();
                continue;
            }
            if (first == null) {
                first = key;
            } else {
                if (routes == null) {
                    routes = new ArrayList<>(4);
                    routes.add(first);
                }
                routes.add(key);
            }
        }
        if (count == 0) {
            throw new InvalidMessage("uris: empty");
        }
        if (count > MAX_URIS) {
            throw new InvalidMessage("uris: " + count + " entries (expected: at most " + MAX_URIS + ")");
        }
        if (typeError != null) {
            throw new InvalidMessage(typeError);
        }
        if (keyError != null) {
            throw new InvalidMessage(keyError);
        }
        return routes == null ? List.of(first) : routes;
    }

    /*
     * Nearly every message has one tag or none: those become Map.of, which the Endpoint keeps as it is;
     * a map is built only for two or more. A null value removes its key; a repeated key keeps its last value.
     */
    private static Map<String, String> tags(JsonCursor c, int position) {
        JsonCursor.Kind kind = kindAt(c, position);
        if (kind == null) {
            return Map.of();
        }
        if (kind != JsonCursor.Kind.OBJECT) {
            throw wrongType(c, position, "tags", "an object of strings");
        }
        String onlyKey = null;
        String onlyValue = null;
        Map<String, String> tags = null;
        c.beginObject();
        for (String key = c.nextKey(true); key != null; key = c.nextKey(false)) {
            String value = switch (c.peek()) {
                case NULL -> {
                    c.nextNull();
                    yield null;
                }
                case STRING -> c.nextString();
                case NUMBER -> c.nextNumber();
                case TRUE, FALSE -> {
                    int start = c.skipValue();
                    yield c.text(start);
                }
                default -> {
                    int start = c.skipValue();
                    throw new InvalidMessage("tags." + abbreviate(key) + ": " + c.text(start) + " (expected: a string)");
                }
            };
            if (tags != null) {
                if (value == null) {
                    tags.remove(key);
                } else {
                    tags.put(key, value);
                }
            } else if (onlyKey == null || onlyKey.equals(key)) {
                onlyKey = value == null ? null : key;
                onlyValue = value;
            } else if (value != null) {
                tags = new HashMap<>(4);
                tags.put(onlyKey, onlyValue);
                tags.put(key, value);
            }
        }
        if (tags != null) {
            return tags;
        }
        return onlyKey == null ? Map.of() : Map.of(onlyKey, onlyValue);
    }

    private static long staleSeconds(JsonCursor c, int position) {
        JsonCursor.Kind kind = kindAt(c, position);
        if (kind == null) {
            return 0;
        }
        long seconds = integer(c, kind, position, "stale_threshold_in_seconds");
        if (seconds < 0) {
            throw new InvalidMessage("stale_threshold_in_seconds: " + seconds + " (expected: >= 0)");
        }
        return Math.min(seconds, MAX_STALE_SECONDS);
    }

    private static final String[] OPTION_KEYS = {"loadbalancing"};

    private static LoadBalancing balancing(JsonCursor c, int position, Fields f) {
        if (kindAt(c, position) != JsonCursor.Kind.OBJECT) {
            return null;
        }
        int lb = -1;
        c.beginObject();
        for (int key = c.nextKeyIndex(true, OPTION_KEYS); key != JsonCursor.END;
             key = c.nextKeyIndex(false, OPTION_KEYS)) {
            int at = c.skipValue();
            if (key == 0) {
                lb = at;
            }
        }
        JsonCursor.Kind kind = kindAt(c, lb);
        if (kind == null) {
            return null;
        }
        String name = switch (kind) {
            case STRING -> c.nextString();
            case NUMBER -> c.nextNumber();
            default -> {
                c.skipValue();
                yield c.text(lb);
            }
        };
        return LoadBalancing.fromWireName(name).orElseGet(() -> {
            f.warn("options.loadbalancing: " + abbreviate(name)
                    + " ignored (expected: round-robin or least-connection)");
            return null;
        });
    }

    private static String abbreviate(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }

    private static final class InvalidMessage extends RuntimeException {
        InvalidMessage(String message) {
            super(message, null, false, false);
        }
    }
}
