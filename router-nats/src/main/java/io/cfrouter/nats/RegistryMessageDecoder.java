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
import java.util.LinkedHashMap;
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
            List<String> noted = new ArrayList<>(0);
            RouteRegistration registration = parse(payload, noted::add);
            // Only a message that is kept is worth warning about: a refused one gets its single reason.
            noted.forEach(warnings);
            return new Result(registration, null);
        } catch (InvalidMessage e) {
            return new Result(null, e.getMessage());
        } catch (RuntimeException | StackOverflowError e) {
            return new Result(null, "unreadable message: " + e);
        }
    }

    /** The value positions of the keys this decoder reads; -1 when absent. Later keys overwrite. */
    private static final class Fields {
        int host = -1;
        int port = -1;
        int tlsPort = -1;
        int uris = -1;
        int tags = -1;
        int app = -1;
        int instanceId = -1;
        int instanceIndex = -1;
        int stale = -1;
        int routeService = -1;
        int options = -1;
    }

    private static RouteRegistration parse(byte[] payload, Consumer<String> warnings) {
        if (payload == null || payload.length == 0) {
            throw new InvalidMessage("empty message");
        }
        if (payload.length > MAX_MESSAGE_BYTES) {
            throw new InvalidMessage("message of " + payload.length + " bytes (expected: at most "
                    + MAX_MESSAGE_BYTES + ")");
        }
        checkUtf8(payload);
        Fields f = new Fields();
        try {
            JsonCursor c = new JsonCursor(payload, 0, payload.length);
            if (c.atEnd()) {
                throw new InvalidMessage("empty message");
            }
            // One pass checks the whole document and notes where each known key's (last) value starts; the
            // fields are read afterwards, so that malformed JSON anywhere is reported as such first.
            boolean object = c.peek() == JsonCursor.Kind.OBJECT;
            if (object) {
                c.beginObject();
                for (String key = c.nextKey(true); key != null; key = c.nextKey(false)) {
                    int at = c.skipValue();
                    switch (key) {
                        case "host" -> f.host = at;
                        case "port" -> f.port = at;
                        case "tls_port" -> f.tlsPort = at;
                        case "uris" -> f.uris = at;
                        case "tags" -> f.tags = at;
                        case "app" -> f.app = at;
                        case "private_instance_id" -> f.instanceId = at;
                        case "private_instance_index" -> f.instanceIndex = at;
                        case "stale_threshold_in_seconds" -> f.stale = at;
                        case "route_service_url" -> f.routeService = at;
                        case "options" -> f.options = at;
                        default -> { }
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
            throw new InvalidMessage("not JSON: " + e.getMessage());
        } catch (JsonCursor.InvalidUtf8 e) {
            throw new InvalidMessage("invalid UTF-8");
        }
        return registration(payload, f, warnings);
    }

    /*
     * Registrations are nearly always ASCII, which is valid UTF-8 by construction; anything else goes
     * through the strict decoder, so that an invalid sequence anywhere (not only inside strings) is called
     * what it is.
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

    private static RouteRegistration registration(byte[] payload, Fields f, Consumer<String> warnings) {
        String host = string(payload, f.host, "host", true);
        if (host.isEmpty()) {
            throw new InvalidMessage("host: empty");
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        checkHost(host);
        int port = port(payload, f, warnings);
        List<RouteKey> routes = uris(payload, f.uris);
        Map<String, String> tags = tags(payload, f.tags);
        String app = string(payload, f.app, "app", false);
        String instanceId = string(payload, f.instanceId, "private_instance_id", false);
        String instanceIndex = string(payload, f.instanceIndex, "private_instance_index", false);
        Duration stale = Duration.ofSeconds(staleSeconds(payload, f.stale));
        String routeService = string(payload, f.routeService, "route_service_url", false);
        if (!routeService.isEmpty()) {
            if (!routeService.regionMatches(true, 0, "https://", 0, 8)) {
                throw new InvalidMessage("route_service_url: " + abbreviate(routeService) + " (expected: an https URL)");
            }
            warnings.accept("route_service_url ignored (route services are not supported yet)");
        }
        LoadBalancing balancing = balancing(payload, f.options, warnings);
        return new RouteRegistration(
                new Endpoint(host, port, app, instanceId, instanceIndex, tags, stale, balancing), routes);
    }

    private static JsonCursor at(byte[] payload, int position) {
        return new JsonCursor(payload, position, payload.length);
    }

    private static boolean absent(byte[] payload, int position) {
        return position < 0 || at(payload, position).peek() == JsonCursor.Kind.NULL;
    }

    private static String string(byte[] payload, int position, String key, boolean required) {
        if (absent(payload, position)) {
            if (required) {
                throw new InvalidMessage(key + ": missing");
            }
            return "";
        }
        JsonCursor c = at(payload, position);
        if (c.peek() != JsonCursor.Kind.STRING) {
            c.skipValue();
            throw new InvalidMessage(key + ": " + c.text(position) + " (expected: a string)");
        }
        return c.nextString();
    }

    /*
     * tls_port is validated but not used until the proxy speaks TLS to backends (a later section of the
     * reference): routing plain HTTP to a TLS port would fail every request, so the plain port is used.
     */
    private static int port(byte[] payload, Fields f, Consumer<String> warnings) {
        int port = optionalPort(payload, f.port, "port");
        int tlsPort = optionalPort(payload, f.tlsPort, "tls_port");
        if (port == 0) {
            throw new InvalidMessage(tlsPort == 0 ? "port: missing"
                    : "port: missing (tls_port " + tlsPort + " given, but TLS to backends is not supported yet)");
        }
        if (tlsPort != 0) {
            warnings.accept("tls_port: " + tlsPort + " ignored (TLS to backends is not supported yet; using port "
                    + port + ")");
        }
        return port;
    }

    /** The port at {@code position}, or 0 when absent. */
    private static int optionalPort(byte[] payload, int position, String key) {
        if (absent(payload, position)) {
            return 0;
        }
        long port = integer(payload, position, key);
        if (port < 1 || port > 65535) {
            throw new InvalidMessage(key + ": " + port + " (expected: 1-65535)");
        }
        return (int) port;
    }

    private static long integer(byte[] payload, int position, String key) {
        JsonCursor c = at(payload, position);
        if (c.peek() != JsonCursor.Kind.NUMBER) {
            c.skipValue();
            throw new InvalidMessage(key + ": " + c.text(position) + " (expected: an integer)");
        }
        String literal = c.nextNumber();
        if (literal.length() <= 18 && isPlainInteger(literal)) {
            return Long.parseLong(literal);
        }
        try {
            return new BigDecimal(literal).longValueExact();
        } catch (ArithmeticException | NumberFormatException e) {
            throw new InvalidMessage(key + ": " + abbreviate(literal) + " (expected: an integer)");
        }
    }

    private static boolean isPlainInteger(String literal) {
        for (int i = literal.charAt(0) == '-' ? 1 : 0; i < literal.length(); i++) {
            char ch = literal.charAt(i);
            if (ch < '0' || ch > '9') {
                return false;
            }
        }
        return true;
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

    private static List<RouteKey> uris(byte[] payload, int position) {
        if (absent(payload, position)) {
            throw new InvalidMessage("uris: missing");
        }
        JsonCursor c = at(payload, position);
        if (c.peek() != JsonCursor.Kind.ARRAY) {
            c.skipValue();
            throw new InvalidMessage("uris: " + c.text(position) + " (expected: an array of strings)");
        }
        List<String> uris = new ArrayList<>(1);
        String firstError = null;
        int count = 0;
        c.beginArray();
        for (boolean first = true; c.hasNextElement(first); first = false) {
            count++;
            if (count > MAX_URIS || firstError != null) {
                c.skipValue();
                continue;
            }
            JsonCursor.Kind kind = c.peek();
            if (kind == JsonCursor.Kind.STRING) {
                uris.add(c.nextString());
            } else {
                int start = c.skipValue();
                firstError = "uris: " + c.text(start) + " (expected: a string)";
            }
        }
        if (count == 0) {
            throw new InvalidMessage("uris: empty");
        }
        if (count > MAX_URIS) {
            throw new InvalidMessage("uris: " + count + " entries (expected: at most " + MAX_URIS + ")");
        }
        if (firstError != null) {
            throw new InvalidMessage(firstError);
        }
        List<RouteKey> routes = new ArrayList<>(uris.size());
        for (String uri : uris) {
            try {
                routes.add(RouteKey.parse(uri));
            } catch (IllegalArgumentException e) {
                throw new InvalidMessage(e.getMessage());
            }
        }
        return routes;
    }

    private static Map<String, String> tags(byte[] payload, int position) {
        if (absent(payload, position)) {
            return Map.of();
        }
        JsonCursor c = at(payload, position);
        if (c.peek() != JsonCursor.Kind.OBJECT) {
            c.skipValue();
            throw new InvalidMessage("tags: " + c.text(position) + " (expected: an object of strings)");
        }
        Map<String, String> tags = new LinkedHashMap<>();
        c.beginObject();
        for (String key = c.nextKey(true); key != null; key = c.nextKey(false)) {
            switch (c.peek()) {
                case NULL -> {
                    c.nextNull();
                    tags.remove(key);
                }
                case STRING -> tags.put(key, c.nextString());
                case NUMBER -> tags.put(key, c.nextNumber());
                case TRUE, FALSE -> {
                    int start = c.skipValue();
                    tags.put(key, c.text(start));
                }
                default -> {
                    int start = c.skipValue();
                    throw new InvalidMessage("tags." + abbreviate(key) + ": " + c.text(start) + " (expected: a string)");
                }
            }
        }
        return tags;
    }

    private static long staleSeconds(byte[] payload, int position) {
        if (absent(payload, position)) {
            return 0;
        }
        long seconds = integer(payload, position, "stale_threshold_in_seconds");
        if (seconds < 0) {
            throw new InvalidMessage("stale_threshold_in_seconds: " + seconds + " (expected: >= 0)");
        }
        return Math.min(seconds, MAX_STALE_SECONDS);
    }

    private static LoadBalancing balancing(byte[] payload, int position, Consumer<String> warnings) {
        if (position < 0) {
            return null;
        }
        JsonCursor c = at(payload, position);
        if (c.peek() != JsonCursor.Kind.OBJECT) {
            return null;
        }
        int lb = -1;
        c.beginObject();
        for (String key = c.nextKey(true); key != null; key = c.nextKey(false)) {
            int at = c.skipValue();
            if (key.equals("loadbalancing")) {
                lb = at;
            }
        }
        if (absent(payload, lb)) {
            return null;
        }
        JsonCursor v = at(payload, lb);
        String name = switch (v.peek()) {
            case STRING -> v.nextString();
            case NUMBER -> v.nextNumber();
            default -> {
                v.skipValue();
                yield v.text(lb);
            }
        };
        return LoadBalancing.fromWireName(name).orElseGet(() -> {
            warnings.accept("options.loadbalancing: " + abbreviate(name)
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
