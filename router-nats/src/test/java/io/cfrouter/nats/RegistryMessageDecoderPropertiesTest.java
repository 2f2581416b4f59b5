package io.cfrouter.nats;

import com.google.gson.Gson;
import io.cfrouter.core.Endpoint;
import io.cfrouter.core.RouteKey;
import io.cfrouter.core.RouteRegistration;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.arbitraries.ListArbitrary;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Fuzzing the decoder: whatever arrives, it answers with a registration or a reason, and never throws. */
class RegistryMessageDecoderPropertiesTest {

    private static final Gson GSON = new Gson();
    private static final List<String> KEYS = List.of("host", "port", "tls_port", "uris", "tags", "app",
            "private_instance_id", "private_instance_index", "stale_threshold_in_seconds", "route_service_url",
            "options", "loadbalancing", "x");

    @Property
    void shouldAnswerEveryByteSequenceWithExactlyOneOutcome(@ForAll byte[] payload) {
        assertOneOutcome(RegistryMessageDecoder.decode(payload, w -> { }));
    }

    @Property
    void shouldAnswerEveryStringWithExactlyOneOutcome(@ForAll String text) {
        assertOneOutcome(RegistryMessageDecoder.decode(text.getBytes(StandardCharsets.UTF_8), w -> { }));
    }

    @Property
    void shouldAnswerArbitraryJsonWithTheRightKeysWithExactlyOneOutcome(@ForAll("jsonObjects") Object message) {
        assertOneOutcome(RegistryMessageDecoder.decode(GSON.toJson(message).getBytes(StandardCharsets.UTF_8), w -> { }));
    }

    @Property
    void shouldSurviveAnyCorruptionOfAValidMessage(@ForAll("messages") Map<String, Object> message,
                                                   @ForAll("corruptions") List<int[]> corruptions) {
        byte[] bytes = GSON.toJson(message).getBytes(StandardCharsets.UTF_8);
        for (int[] c : corruptions) {
            int at = Math.floorMod(c[0], bytes.length);
            switch (Math.floorMod(c[2], 3)) {
                case 0 -> bytes[at] = (byte) c[1];
                case 1 -> bytes = splice(bytes, at, 1, new byte[0]);
                default -> bytes = splice(bytes, at, 0, new byte[] {(byte) c[1]});
            }
            if (bytes.length == 0) {
                break;
            }
        }
        assertOneOutcome(RegistryMessageDecoder.decode(bytes, w -> { }));
    }

    @Property
    void shouldRoundTripEveryValidMessage(@ForAll("messages") Map<String, Object> message) {
        List<String> warnings = new ArrayList<>();

        RegistryMessageDecoder.Result result =
                RegistryMessageDecoder.decode(GSON.toJson(message).getBytes(StandardCharsets.UTF_8), warnings::add);

        assertThat(result.error()).isNull();
        assertThat(warnings).isEmpty();
        RouteRegistration r = result.registration();
        @SuppressWarnings("unchecked")
        List<String> uris = (List<String>) message.get("uris");
        @SuppressWarnings("unchecked")
        Map<String, String> tags = (Map<String, String>) message.getOrDefault("tags", Map.of());
        Number stale = (Number) message.getOrDefault("stale_threshold_in_seconds", 0);
        assertThat(r.endpoint()).isEqualTo(new Endpoint((String) message.get("host"), (Integer) message.get("port"),
                (String) message.get("app"), (String) message.get("private_instance_id"),
                (String) message.get("private_instance_index"), tags, Duration.ofSeconds(stale.longValue()), null));
        assertThat(r.routes()).containsExactlyElementsOf(uris.stream().map(RouteKey::parse).toList());
    }

    @Property(tries = 5000)
    void shouldAgreeWithGsonOnWhatIsWellFormedJson(@ForAll("jsonLike") String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        boolean ours;
        try {
            JsonCursor c = new JsonCursor(bytes, 0, bytes.length);
            c.skipValue();
            ours = c.atEnd();
        } catch (JsonCursor.Malformed e) {
            ours = false;
        }
        boolean gson;
        try {
            com.google.gson.stream.JsonReader reader = new com.google.gson.stream.JsonReader(new java.io.StringReader(text));
            reader.setStrictness(com.google.gson.Strictness.STRICT);
            com.google.gson.JsonParser.parseReader(reader);
            gson = reader.peek() == com.google.gson.stream.JsonToken.END_DOCUMENT;
        } catch (Exception e) {
            gson = false;
        }
        assertThat(ours).as("well-formed: %s", text).isEqualTo(gson);
    }

    @Provide
    Arbitrary<String> jsonLike() {
        Arbitrary<String> soup = Arbitraries.strings().withChars("{}[]\",:-+.eE0129 \n\tabtrufalsn\\u/").ofMaxLength(24);
        Arbitrary<String> mutated = Combinators.combine(Arbitraries.of(
                        "{\"host\":\"h\",\"port\":1,\"uris\":[\"a.com\"]}", "[1,-0.5e+3,true,false,null,\"x\\u00e9\\n\"]",
                        "{\"a\":{\"b\":[{}, [], \"\"]}}", "-12.5E-3", "\"\\ud83d\\ude00\""),
                Arbitraries.integers().between(0, 60), Arbitraries.strings().withChars("{}[]\",:-+.eE01 \\u").ofMaxLength(2),
                Arbitraries.integers().between(0, 2))
                .as((base, at, insert, remove) -> {
                    int i = Math.min(at, base.length());
                    int j = Math.min(base.length(), i + remove);
                    return base.substring(0, i) + insert + base.substring(j);
                });
        return Arbitraries.oneOf(soup, mutated).filter(s -> !s.isBlank()); // Gson reads blank as null
    }

    private static void assertOneOutcome(RegistryMessageDecoder.Result result) {
        assertThat(result).isNotNull();
        assertThat(result.isValid() ? result.error() : result.registration()).isNull();
        if (!result.isValid()) {
            assertThat(result.error()).isNotBlank().hasSizeLessThan(400);
        }
    }

    private static byte[] splice(byte[] bytes, int at, int remove, byte[] insert) {
        byte[] out = new byte[bytes.length - remove + insert.length];
        System.arraycopy(bytes, 0, out, 0, at);
        System.arraycopy(insert, 0, out, at, insert.length);
        System.arraycopy(bytes, at + remove, out, at + insert.length, bytes.length - at - remove);
        return out;
    }

    @Provide
    Arbitrary<List<int[]>> corruptions() {
        return Arbitraries.integers().array(int[].class).ofSize(3).list().ofMinSize(1).ofMaxSize(4);
    }

    @Provide
    Arbitrary<Map<String, Object>> messages() {
        Arbitrary<String> label = Arbitraries.strings().withCharRange('a', 'z').numeric().withChars('-')
                .ofMinLength(1).ofMaxLength(12).filter(s -> !s.startsWith("-"));
        Arbitrary<String> hostName = label.list().ofMinSize(1).ofMaxSize(4).map(l -> String.join(".", l));
        Arbitrary<String> ipv4 = Arbitraries.integers().between(0, 255).list().ofSize(4)
                .map(l -> l.stream().map(String::valueOf).reduce((a, b) -> a + "." + b).orElseThrow());
        Arbitrary<String> host = Arbitraries.oneOf(hostName, ipv4);
        Arbitrary<String> path = Arbitraries.strings().withCharRange('a', 'z').withCharRange('A', 'Z').withChars('/', '-', '_')
                .ofMaxLength(20);
        Arbitrary<String> uri = Combinators.combine(Arbitraries.oneOf(hostName, hostName.map(h -> "*." + h)), path)
                .as((h, p) -> p.isEmpty() ? h : h + "/" + p);
        ListArbitrary<String> uris = uri.list().ofMinSize(1).ofMaxSize(5);
        Arbitrary<String> text = Arbitraries.strings().ofMaxLength(30);
        Arbitrary<Map<String, String>> tags = Arbitraries.maps(Arbitraries.strings().ofMinLength(1).ofMaxLength(10), text)
                .ofMaxSize(4);
        return Combinators.combine(host, Arbitraries.integers().between(1, 65535), uris, text, text, text,
                        tags.injectNull(0.3), Arbitraries.integers().between(0, 100_000).injectNull(0.3))
                .as((h, p, u, app, id, index, t, stale) -> {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("host", h);
                    m.put("port", p);
                    m.put("uris", u);
                    m.put("app", app);
                    m.put("private_instance_id", id);
                    m.put("private_instance_index", index);
                    if (t != null) {
                        m.put("tags", t);
                    }
                    if (stale != null) {
                        m.put("stale_threshold_in_seconds", stale);
                    }
                    return m;
                });
    }

    @Provide
    Arbitrary<Object> jsonObjects() {
        return Arbitraries.maps(Arbitraries.oneOf(Arbitraries.of(KEYS), Arbitraries.strings().ofMaxLength(5)),
                jsonValue(3)).ofMaxSize(8).map(m -> (Object) m);
    }

    private Arbitrary<Object> jsonValue(int depth) {
        List<Arbitrary<?>> leaves = List.of(
                Arbitraries.strings().ofMaxLength(20),
                Arbitraries.of("a.com", "*.b.com/p?q", "", " ", "127.0.0.1", "round-robin", "least-connection",
                        "https://rs", "http://rs"),
                Arbitraries.integers(),
                Arbitraries.longs(),
                Arbitraries.doubles(),
                Arbitraries.integers().between(-2, 70000),
                Arbitraries.of(true, false));
        Arbitrary<Object> leaf = Arbitraries.oneOf(leaves.stream().map(a -> a.map(o -> (Object) o)).toList());
        if (depth == 0) {
            return leaf;
        }
        Arbitrary<Object> nested = Arbitraries.lazy(() -> jsonValue(depth - 1));
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(6, leaf),
                net.jqwik.api.Tuple.of(2, nested.list().ofMaxSize(4).map(l -> (Object) l)),
                net.jqwik.api.Tuple.of(2, Arbitraries.maps(Arbitraries.of(KEYS), nested).ofMaxSize(4).map(m -> (Object) m)));
    }
}
