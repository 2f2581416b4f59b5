package io.cfrouter.nats;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import io.cfrouter.core.Endpoint;
import io.cfrouter.core.LoadBalancing;
import io.cfrouter.core.RouteKey;
import io.cfrouter.core.RouteRegistration;

import java.io.StringReader;
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
 * Decodes {@code router.register} and {@code router.unregister} payloads. A pure function: bytes in, a
 * {@link RouteRegistration} or the reason it was refused out; it never throws.
 */
public final class RegistryMessageDecoder {

    /** Messages larger than this are refused without parsing. */
    public static final int MAX_MESSAGE_BYTES = 1 << 20;
    /** At most this many uris per message. */
    public static final int MAX_URIS = 10_000;

    private RegistryMessageDecoder() {
    }

    /** The outcome of decoding one message: exactly one of the two is set. */
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
     * @param warnings told about ignored parts of a valid message (e.g. an unknown balancing value)
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
        } catch (RuntimeException e) {
            return new Result(null, "unreadable message: " + e);
        }
    }

    private static RouteRegistration parse(byte[] payload, Consumer<String> warnings) {
        if (payload == null || payload.length == 0) {
            throw new InvalidMessage("empty message");
        }
        if (payload.length > MAX_MESSAGE_BYTES) {
            throw new InvalidMessage("message of " + payload.length + " bytes (expected: at most "
                    + MAX_MESSAGE_BYTES + ")");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(payload)).toString();
        } catch (CharacterCodingException e) {
            throw new InvalidMessage("invalid UTF-8");
        }
        if (text.isBlank()) {
            // Gson reads a blank document as JSON null.
            throw new InvalidMessage("empty message");
        }
        JsonElement root;
        try {
            JsonReader reader = new JsonReader(new StringReader(text));
            reader.setStrictness(Strictness.STRICT);
            root = JsonParser.parseReader(reader);
            if (reader.peek() != com.google.gson.stream.JsonToken.END_DOCUMENT) {
                throw new InvalidMessage("trailing data after the JSON object");
            }
        } catch (JsonParseException | java.io.IOException | IllegalStateException e) {
            throw new InvalidMessage("not JSON: " + rootCause(e));
        } catch (StackOverflowError e) {
            throw new InvalidMessage("JSON nested too deeply");
        }
        if (!root.isJsonObject()) {
            throw new InvalidMessage("not a JSON object");
        }
        JsonObject o = root.getAsJsonObject();
        String host = string(o, "host", true);
        if (host.isEmpty()) {
            throw new InvalidMessage("host: empty");
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        checkHost(host);
        int port = port(o, warnings);
        List<RouteKey> routes = uris(o);
        Map<String, String> tags = tags(o);
        String app = string(o, "app", false);
        String instanceId = string(o, "private_instance_id", false);
        String instanceIndex = string(o, "private_instance_index", false);
        Duration stale = Duration.ofSeconds(staleSeconds(o));
        String routeService = string(o, "route_service_url", false);
        if (!routeService.isEmpty()) {
            if (!routeService.regionMatches(true, 0, "https://", 0, 8)) {
                throw new InvalidMessage("route_service_url: " + abbreviate(routeService) + " (expected: an https URL)");
            }
            warnings.accept("route_service_url ignored (route services are not supported yet)");
        }
        LoadBalancing balancing = balancing(o, warnings);
        return new RouteRegistration(
                new Endpoint(host, port, app, instanceId, instanceIndex, tags, stale, balancing), routes);
    }

    private static String string(JsonObject o, String key, boolean required) {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) {
            if (required) {
                throw new InvalidMessage(key + ": missing");
            }
            return "";
        }
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw new InvalidMessage(key + ": " + abbreviate(e) + " (expected: a string)");
        }
        return e.getAsString();
    }

    /*
     * tls_port is validated but not used until the proxy speaks TLS to backends (a later section of the
     * reference): routing plain HTTP to a TLS port would fail every request, so the plain port is used.
     */
    private static int port(JsonObject o, Consumer<String> warnings) {
        int port = optionalPort(o, "port");
        int tlsPort = optionalPort(o, "tls_port");
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

    /** The port under {@code key}, or 0 when absent. */
    private static int optionalPort(JsonObject o, String key) {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) {
            return 0;
        }
        long port = integer(e, key);
        if (port < 1 || port > 65535) {
            throw new InvalidMessage(key + ": " + port + " (expected: 1-65535)");
        }
        return (int) port;
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

    private static long integer(JsonElement e, String key) {
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
            throw new InvalidMessage(key + ": " + abbreviate(e) + " (expected: an integer)");
        }
        try {
            return e.getAsBigDecimal().longValueExact();
        } catch (ArithmeticException | NumberFormatException ex) {
            throw new InvalidMessage(key + ": " + abbreviate(e) + " (expected: an integer)");
        }
    }

    private static List<RouteKey> uris(JsonObject o) {
        JsonElement e = o.get("uris");
        if (e == null || e.isJsonNull()) {
            throw new InvalidMessage("uris: missing");
        }
        if (!e.isJsonArray()) {
            throw new InvalidMessage("uris: " + abbreviate(e) + " (expected: an array of strings)");
        }
        JsonArray array = e.getAsJsonArray();
        if (array.isEmpty()) {
            throw new InvalidMessage("uris: empty");
        }
        if (array.size() > MAX_URIS) {
            throw new InvalidMessage("uris: " + array.size() + " entries (expected: at most " + MAX_URIS + ")");
        }
        List<RouteKey> routes = new ArrayList<>(array.size());
        for (JsonElement uri : array) {
            if (!uri.isJsonPrimitive() || !uri.getAsJsonPrimitive().isString()) {
                throw new InvalidMessage("uris: " + abbreviate(uri) + " (expected: a string)");
            }
            try {
                routes.add(RouteKey.parse(uri.getAsString()));
            } catch (IllegalArgumentException ex) {
                throw new InvalidMessage(ex.getMessage());
            }
        }
        return routes;
    }

    private static Map<String, String> tags(JsonObject o) {
        JsonElement e = o.get("tags");
        if (e == null || e.isJsonNull()) {
            return Map.of();
        }
        if (!e.isJsonObject()) {
            throw new InvalidMessage("tags: " + abbreviate(e) + " (expected: an object of strings)");
        }
        Map<String, String> tags = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> t : e.getAsJsonObject().entrySet()) {
            JsonElement v = t.getValue();
            if (v.isJsonNull()) {
                continue;
            }
            if (!v.isJsonPrimitive()) {
                throw new InvalidMessage("tags." + t.getKey() + ": " + abbreviate(v) + " (expected: a string)");
            }
            tags.put(t.getKey(), v.getAsString());
        }
        return tags;
    }

    private static long staleSeconds(JsonObject o) {
        JsonElement e = o.get("stale_threshold_in_seconds");
        if (e == null || e.isJsonNull()) {
            return 0;
        }
        long seconds = integer(e, "stale_threshold_in_seconds");
        if (seconds < 0) {
            throw new InvalidMessage("stale_threshold_in_seconds: " + seconds + " (expected: >= 0)");
        }
        return Math.min(seconds, 100L * 365 * 24 * 3600);
    }

    private static LoadBalancing balancing(JsonObject o, Consumer<String> warnings) {
        JsonElement options = o.get("options");
        if (options == null || !options.isJsonObject()) {
            return null;
        }
        JsonElement lb = options.getAsJsonObject().get("loadbalancing");
        if (lb == null || lb.isJsonNull()) {
            return null;
        }
        String name = lb.isJsonPrimitive() ? lb.getAsString() : abbreviate(lb);
        return LoadBalancing.fromWireName(name).orElseGet(() -> {
            warnings.accept("options.loadbalancing: " + name + " ignored (expected: round-robin or least-connection)");
            return null;
        });
    }

    private static String abbreviate(JsonElement e) {
        return abbreviate(e.toString());
    }

    private static String abbreviate(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }

    private static String rootCause(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String m = t.getMessage();
        return m == null ? t.getClass().getSimpleName() : (m.length() > 120 ? m.substring(0, 120) + "..." : m);
    }

    private static final class InvalidMessage extends RuntimeException {
        InvalidMessage(String message) {
            super(message, null, false, false);
        }
    }
}
