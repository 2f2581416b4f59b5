package io.cfrouter.nats;

import io.cfrouter.core.Endpoint;
import io.cfrouter.core.LoadBalancing;
import io.cfrouter.core.RouteKey;
import io.cfrouter.core.RouteRegistration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class RegistryMessageDecoderTest {

    private final List<String> warnings = new ArrayList<>();

    private RegistryMessageDecoder.Result decode(String json) {
        return RegistryMessageDecoder.decode(json.getBytes(StandardCharsets.UTF_8), warnings::add);
    }

    private RouteRegistration valid(String json) {
        RegistryMessageDecoder.Result result = decode(json);
        assertThat(result.error()).as("error for %s", json).isNull();
        assertThat(result.isValid()).isTrue();
        return result.registration();
    }

    private String invalid(String json) {
        RegistryMessageDecoder.Result result = decode(json);
        assertThat(result.isValid()).as("valid: %s", json).isFalse();
        assertThat(result.registration()).isNull();
        assertThat(result.error()).isNotBlank();
        return result.error();
    }

    @Test
    void shouldDecodeTheReferenceExampleWithEveryField() {
        RouteRegistration r = valid("""
                {"host":"127.0.0.1","port":4567,"uris":["my_first_url.vcap.me","my_second_url.vcap.me/path"],\
                "tags":{"component":"dea-1"},"app":"some_app_guid","stale_threshold_in_seconds":120,\
                "private_instance_id":"some_app_instance_id","private_instance_index":"0"}""");

        assertThat(r.endpoint()).isEqualTo(new Endpoint("127.0.0.1", 4567, "some_app_guid", "some_app_instance_id",
                "0", Map.of("component", "dea-1"), Duration.ofSeconds(120), null));
        assertThat(r.routes()).containsExactly(RouteKey.parse("my_first_url.vcap.me"),
                RouteKey.parse("my_second_url.vcap.me/path"));
        assertThat(warnings).isEmpty();
    }

    @Test
    void shouldDecodeAMinimalMessageWithDefaults() {
        RouteRegistration r = valid("{\"host\":\"10.0.0.1\",\"port\":80,\"uris\":[\"a.com\"]}");

        assertThat(r.endpoint()).isEqualTo(Endpoint.of("10.0.0.1", 80));
        assertThat(r.routes()).containsExactly(RouteKey.parse("a.com"));
    }

    @Test
    void shouldIgnoreUnknownKeysOfAnyShape() {
        RouteRegistration r = valid("""
                {"host":"h","port":1,"uris":["a.com"],"future":{"x":[1,2,{"y":null}]},"n":1e300,"b":true}""");

        assertThat(r.endpoint().address()).isEqualTo("h:1");
        assertThat(warnings).isEmpty();
    }

    @Test
    void shouldDropTheQueryAndLowerCaseTheKey() {
        RouteRegistration r = valid("{\"host\":\"h\",\"port\":1,\"uris\":[\"App.Example.COM/Api/?x=1\"]}");

        assertThat(r.routes().get(0).key()).isEqualTo("app.example.com/api");
        assertThat(r.routes().get(0).contextPath()).isEqualTo("/Api");
    }

    @Test
    void shouldUnwrapABracketedIpv6Host() {
        RouteRegistration r = valid("{\"host\":\"[::1]\",\"port\":8081,\"uris\":[\"a.com\"]}");

        assertThat(r.endpoint().host()).isEqualTo("::1");
        assertThat(r.endpoint().address()).isEqualTo("[::1]:8081");
    }

    @Test
    void shouldAcceptAnIntegralPortWrittenWithAFraction() {
        assertThat(valid("{\"host\":\"h\",\"port\":8080.0,\"uris\":[\"a.com\"]}").endpoint().port()).isEqualTo(8080);
    }

    @Test
    void shouldTakeTheLoadBalancingOverride() {
        RouteRegistration r = valid("""
                {"host":"h","port":1,"uris":["a.com"],"options":{"loadbalancing":"least-connection"}}""");

        assertThat(r.endpoint().loadBalancing()).isEqualTo(LoadBalancing.LEAST_CONNECTION);
    }

    @Test
    void shouldWarnAndIgnoreAnUnknownLoadBalancingValue() {
        RouteRegistration r = valid("""
                {"host":"h","port":1,"uris":["a.com"],"options":{"loadbalancing":"fastest"}}""");

        assertThat(r.endpoint().loadBalancing()).isNull();
        assertThat(warnings).singleElement().asString().contains("options.loadbalancing: fastest");
    }

    @Test
    void shouldKeepTheMessageButWarnAboutATlsPortUntilTlsBackendsExist() {
        RouteRegistration r = valid("{\"host\":\"h\",\"port\":8080,\"tls_port\":8443,\"uris\":[\"a.com\"]}");

        assertThat(r.endpoint().port()).isEqualTo(8080);
        assertThat(warnings).singleElement().asString().contains("tls_port: 8443 ignored");
    }

    @Test
    void shouldRefuseAMessageWithOnlyATlsPort() {
        assertThat(invalid("{\"host\":\"h\",\"tls_port\":8443,\"uris\":[\"a.com\"]}"))
                .contains("port: missing").contains("tls_port 8443");
    }

    @Test
    void shouldRefuseATlsPortOutOfRange() {
        assertThat(invalid("{\"host\":\"h\",\"port\":1,\"tls_port\":70000,\"uris\":[\"a.com\"]}"))
                .isEqualTo("tls_port: 70000 (expected: 1-65535)");
    }

    @Test
    void shouldRefuseANonHttpsRouteServiceUrl() {
        assertThat(invalid("""
                {"host":"h","port":1,"uris":["a.com"],"route_service_url":"http://rs.example.com"}"""))
                .contains("route_service_url").contains("expected: an https URL");
    }

    @Test
    void shouldKeepTheRouteButWarnAboutAnHttpsRouteServiceUrl() {
        valid("{\"host\":\"h\",\"port\":1,\"uris\":[\"a.com\"],\"route_service_url\":\"https://rs.example.com\"}");

        assertThat(warnings).singleElement().asString().contains("route_service_url ignored");
    }

    @Test
    void shouldTreatAnEmptyRouteServiceUrlAsNone() {
        valid("{\"host\":\"h\",\"port\":1,\"uris\":[\"a.com\"],\"route_service_url\":\"\"}");

        assertThat(warnings).isEmpty();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "{\"port\":1,\"uris\":[\"a.com\"]}                       | host: missing",
            "{\"host\":\"\",\"port\":1,\"uris\":[\"a.com\"]}          | host: empty",
            "{\"host\":\"h\",\"uris\":[\"a.com\"]}                   | port: missing",
            "{\"host\":\"h\",\"port\":1}                             | uris: missing",
            "{\"host\":\"h\",\"port\":1,\"uris\":[]}                 | uris: empty",
            "{\"host\":\"h\",\"port\":null,\"uris\":[\"a.com\"]}      | port: missing",
    })
    void shouldRefuseAMessageLackingARequiredKey(String json, String reason) {
        assertThat(invalid(json)).isEqualTo(reason);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "0        | port: 0 (expected: 1-65535)",
            "65536    | port: 65536 (expected: 1-65535)",
            "-1       | port: -1 (expected: 1-65535)",
            "99999999999999999999999 | port: 99999999999999999999999 (expected: an integer)",
            "1.5      | port: 1.5 (expected: an integer)",
            "1e400    | port: 1e400 (expected: an integer)",
            "\"4567\" | port: \"4567\" (expected: an integer)",
            "true     | port: true (expected: an integer)",
            "[1]      | port: [1] (expected: an integer)",
    })
    void shouldRefuseAPortThatIsNotAnIntegerInRange(String port, String reason) {
        assertThat(invalid("{\"host\":\"h\",\"port\":" + port + ",\"uris\":[\"a.com\"]}")).isEqualTo(reason);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "\"host\":5                  | host: 5 (expected: a string)",
            "\"host\":[\"h\"]            | host: [\"h\"] (expected: a string)",
            "\"host\":{}                 | host: {} (expected: a string)",
            "\"host\":\"a b\"            | host: a b (expected: an IP or a host name)",
            "\"host\":\"a/b\"            | host: a/b (expected: an IP or a host name)",
            "\"app\":7                   | app: 7 (expected: a string)",
            "\"private_instance_id\":[]  | private_instance_id: [] (expected: a string)",
            "\"private_instance_index\":0 | private_instance_index: 0 (expected: a string)",
            "\"tags\":\"x\"              | tags: \"x\" (expected: an object of strings)",
            "\"tags\":{\"a\":{}}         | tags.a: {} (expected: a string)",
            "\"stale_threshold_in_seconds\":\"9\" | stale_threshold_in_seconds: \"9\" (expected: an integer)",
            "\"stale_threshold_in_seconds\":-5   | stale_threshold_in_seconds: -5 (expected: >= 0)",
            "\"route_service_url\":1     | route_service_url: 1 (expected: a string)",
    })
    void shouldRefuseAFieldOfTheWrongType(String field, String reason) {
        String json = "{\"host\":\"h\",\"port\":1,\"uris\":[\"a.com\"]," + field + "}";
        // The later key wins in JSON objects, so a bad "host" replaces the good one.
        assertThat(invalid(json)).isEqualTo(reason);
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"a.com\"", "{\"a\":1}", "[\"a.com\",3]", "[\"a.com\",null]", "[\"\"]", "[\"  \"]",
            "[\"/path\"]", "[[\"a.com\"]]"})
    void shouldRefuseUrisThatAreNotANonEmptyArrayOfHostStrings(String uris) {
        assertThat(invalid("{\"host\":\"h\",\"port\":1,\"uris\":" + uris + "}")).startsWith("uri");
    }

    @Test
    void shouldRefuseAHugeUrisArrayWithoutBuildingRoutes() {
        StringBuilder json = new StringBuilder("{\"host\":\"h\",\"port\":1,\"uris\":[");
        for (int i = 0; i <= RegistryMessageDecoder.MAX_URIS; i++) {
            json.append(i == 0 ? "" : ",").append("\"a").append(i).append(".com\"");
        }
        json.append("]}");

        assertThat(invalid(json.toString())).isEqualTo("uris: 10001 entries (expected: at most 10000)");
    }

    @Test
    void shouldRefuseAMessageOverTheSizeLimit() {
        byte[] big = new byte[RegistryMessageDecoder.MAX_MESSAGE_BYTES + 1];
        java.util.Arrays.fill(big, (byte) ' ');

        RegistryMessageDecoder.Result result = RegistryMessageDecoder.decode(big, warnings::add);

        assertThat(result.error()).isEqualTo("message of 1048577 bytes (expected: at most 1048576)");
    }

    @Test
    void shouldRefuseInvalidUtf8() {
        byte[] json = "{\"host\":\"h\",\"port\":1,\"uris\":[\"a.com\"],\"app\":\"X\"}".getBytes(StandardCharsets.UTF_8);
        json[json.length - 3] = (byte) 0xC3; // a lead byte followed by '"', not a continuation

        assertThat(RegistryMessageDecoder.decode(json, warnings::add).error()).isEqualTo("invalid UTF-8");
    }

    @Test
    void shouldRefuseAnOverlongUtf8Encoding() {
        byte[] json = "{\"host\":\"h\",\"port\":1,\"uris\":[\"a.com\"],\"app\":\"XX\"}".getBytes(StandardCharsets.UTF_8);
        json[json.length - 4] = (byte) 0xC0; // overlong encoding of '/'
        json[json.length - 3] = (byte) 0xAF;

        assertThat(RegistryMessageDecoder.decode(json, warnings::add).error()).isEqualTo("invalid UTF-8");
    }

    @Test
    void shouldAcceptMultiByteUtf8InValues() {
        RouteRegistration r = valid("{\"host\":\"h\",\"port\":1,\"uris\":[\"a.com\"],\"app\":\"äpp-日本-😀\"}");

        assertThat(r.endpoint().appId()).isEqualTo("äpp-日本-😀");
    }

    @ParameterizedTest
    @ValueSource(strings = {"[]", "\"text\"", "42", "null", "true", "[{\"host\":\"h\",\"port\":1,\"uris\":[\"a.com\"]}]"})
    void shouldRefuseJsonThatIsNotAnObject(String json) {
        assertThat(invalid(json)).isEqualTo("not a JSON object");
    }

    @ParameterizedTest
    @ValueSource(strings = {"{", "{\"host\":", "{\"host\":\"h\",}", "{'host':'h'}", "{host:h}", "\u0000", "nul",
            "{\"host\":\"h\",\"port\":1,\"uris\":[\"a.com\"]}}", "{\"host\":\"h\",\"port\":1,\"uris\":[\"a.com\"]} x",
            "{\"host\":\"h\",\"port\":1,\"uris\":[\"a.com\"]}{}", "{\"port\":NaN}", "   "})
    void shouldRefuseMalformedJsonAndTrailingGarbage(String json) {
        assertThat(invalid(json)).satisfiesAnyOf(
                e -> assertThat(e).startsWith("not JSON"),
                e -> assertThat(e).startsWith("trailing data"),
                e -> assertThat(e).isEqualTo("empty message"));
    }

    @Test
    void shouldRefuseAnEmptyOrNullMessage() {
        assertThat(RegistryMessageDecoder.decode(new byte[0], warnings::add).error()).isEqualTo("empty message");
        assertThat(RegistryMessageDecoder.decode(null, warnings::add).error()).isEqualTo("empty message");
    }

    @Test
    void shouldRefuseDeepNestingWithoutOverflowingTheStack() {
        String deep = "[".repeat(200_000) + "]".repeat(200_000);
        String json = "{\"host\":\"h\",\"port\":1,\"uris\":[\"a.com\"],\"x\":" + deep + "}";

        assertThat(invalid(json)).startsWith("not JSON");
    }

    @Test
    void shouldDecodeEscapesAndSurrogatePairs() {
        RouteRegistration r = valid("{\"host\":\"h\",\"port\":1,\"uris\":[\"a.com\"],"
                + "\"app\":\"\\u00e9\\ud83d\\ude00\\\"\\\\\\/\\b\\f\\n\\r\\t\"}");

        assertThat(r.endpoint().appId()).isEqualTo("é😀\"\\/\b\f\n\r\t");
    }

    @Test
    void shouldTakeTheLastValueOfARepeatedKey() {
        RouteRegistration r = valid("{\"host\":\"a\",\"port\":1,\"uris\":[\"a.com\"],\"host\":\"b\",\"port\":2}");

        assertThat(r.endpoint().address()).isEqualTo("b:2");
    }

    @Test
    void shouldReadTagValuesThatAreNumbersOrBooleansAsText() {
        RouteRegistration r = valid("""
                { "host" : "h" , "port" : 1 , "uris" : [ "a.com" ] ,
                  "tags" : { "n" : 12.50 , "b" : true , "gone" : null , "s" : "x" } }""");

        assertThat(r.endpoint().tags()).containsExactlyInAnyOrderEntriesOf(Map.of("n", "12.50", "b", "true", "s", "x"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"host\":\"a\u0001b\",\"port\":1,\"uris\":[\"a.com\"]}",
            "{\"host\":\"h\",\"port\":01,\"uris\":[\"a.com\"]}", "{\"host\":\"h\",\"port\":1.,\"uris\":[\"a.com\"]}",
            "{\"host\":\"h\",\"port\":-,\"uris\":[\"a.com\"]}", "{\"host\":\"h\",\"port\":1e,\"uris\":[\"a.com\"]}",
            "{\"host\":\"h\\x\",\"port\":1,\"uris\":[\"a.com\"]}", "{\"host\":\"h\\u12\",\"port\":1}",
            "{\"host\":\"h\",\"port\":1,\"uris\":[\"a.com\",]}", "{\"host\":\"h\",}", "{\"a\":tru}",
            "{\"host\":\"h\" \"port\":1}", "{\"host\"}"})
    void shouldRefuseWhatStrictJsonForbids(String json) {
        assertThat(invalid(json)).startsWith("not JSON");
    }

    @Test
    void shouldNotTakeTheWarningsOfAnInvalidMessageForAValidOne() {
        invalid("{\"host\":\"h\",\"port\":0,\"uris\":[\"a.com\"],\"options\":{\"loadbalancing\":\"x\"}}");

        assertThat(warnings).isEmpty();
    }
    @Test
    void shouldRecogniseAKnownKeyWrittenWithEscapes() {
        RouteRegistration r = valid("{\"\\u0068ost\":\"h\",\"po\\u0072t\":1,\"uris\":[\"a.com\"],\"\\u0061pp\":\"x\"}");

        assertThat(r.endpoint().address()).isEqualTo("h:1");
        assertThat(r.endpoint().appId()).isEqualTo("x");
    }

    @Test
    void shouldIgnoreUnknownKeysWithNonAsciiCharactersOrEscapes() {
        RouteRegistration r = valid("{\"höst\":\"x\",\"ho\\nst\":\"y\",\"host\":\"h\",\"port\":1,"
                + "\"uris\":[\"a.com\"],\"tags\":{\"\\u00e9\":\"v\"}}");

        assertThat(r.endpoint().host()).isEqualTo("h");
        assertThat(r.endpoint().tags()).isEqualTo(Map.of("é", "v"));
    }

    @Test
    void shouldKeepTheLastValueOfEachTagAndDropTagsSetToNull() {
        RouteRegistration one = valid("{\"host\":\"h\",\"port\":1,\"uris\":[\"a.com\"],"
                + "\"tags\":{\"a\":\"1\",\"a\":\"2\",\"b\":null}}");
        RouteRegistration removed = valid("{\"host\":\"h\",\"port\":1,\"uris\":[\"a.com\"],"
                + "\"tags\":{\"a\":\"1\",\"a\":null,\"b\":\"2\"}}");
        RouteRegistration many = valid("{\"host\":\"h\",\"port\":1,\"uris\":[\"a.com\"],"
                + "\"tags\":{\"a\":\"1\",\"b\":\"2\",\"a\":null,\"c\":\"3\",\"b\":\"4\"}}");

        assertThat(one.endpoint().tags()).isEqualTo(Map.of("a", "2"));
        assertThat(removed.endpoint().tags()).isEqualTo(Map.of("b", "2"));
        assertThat(many.endpoint().tags()).isEqualTo(Map.of("b", "4", "c", "3"));
    }

    @Test
    void shouldReportAUriOfTheWrongTypeBeforeAUriThatIsNotARoute() {
        String reason = invalid("{\"host\":\"h\",\"port\":1,\"uris\":[\"a.com\",\"\",\"b.com\",7]}");
        String keyReason = invalid("{\"host\":\"h\",\"port\":1,\"uris\":[\"a.com\",\"\",\"b.com\"]}");

        assertThat(reason).isEqualTo("uris: 7 (expected: a string)");
        assertThat(keyReason).startsWith("uri");
        assertThat(keyReason).isNotEqualTo(reason);
    }

    @Test
    void shouldKeepEveryUriInOrder() {
        RouteRegistration r = valid("{\"host\":\"h\",\"port\":1,\"uris\":[\"c.com\",\"a.com/x\",\"b.com\"]}");

        assertThat(r.routes()).containsExactly(RouteKey.parse("c.com"), RouteKey.parse("a.com/x"),
                RouteKey.parse("b.com"));
    }

    @Test
    void shouldCallInvalidUtf8OutsideStringsInvalidUtf8() {
        byte[] json = "{\"host\":\"h\",\"port\":1,\"uris\":[\"a.com\"] }".getBytes(StandardCharsets.UTF_8);
        json[json.length - 2] = (byte) 0xFF; // where whitespace was: malformed JSON and invalid UTF-8 both

        assertThat(RegistryMessageDecoder.decode(json, warnings::add).error()).isEqualTo("invalid UTF-8");
    }

    @Test
    void shouldCallValidNonAsciiOutsideStringsMalformedJson() {
        assertThat(invalid("{\"host\":\"h\",\"port\":1,\"uris\":[\"a.com\"] é}")).startsWith("not JSON");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "8080|8080",
            "-0|",
            "-8080|",
            "80.0|80",
            "8.08e3|8080",
            "0000000000000000000000000000|",
            "123456789012345678|",
            "1234567890123456789012|"})
    void shouldReadIntegersOfAnyLengthOrForm(String literal, String port) {
        String json = "{\"host\":\"h\",\"port\":" + literal + ",\"uris\":[\"a.com\"]}";
        if (port == null) {
            assertThat(invalid(json)).as(literal).isNotBlank();
        } else {
            assertThat(valid(json).endpoint().port()).isEqualTo(Integer.parseInt(port));
        }
    }

    @Test
    void shouldReadAStaleThresholdOfManyDigitsExactly() {
        RouteRegistration r = valid("{\"host\":\"h\",\"port\":1,\"uris\":[\"a.com\"],"
                + "\"stale_threshold_in_seconds\":120000000000000000}");
        RouteRegistration exact = valid("{\"host\":\"h\",\"port\":1,\"uris\":[\"a.com\"],"
                + "\"stale_threshold_in_seconds\":-0}");

        assertThat(r.endpoint().staleThreshold()).isEqualTo(Duration.ofSeconds(100L * 365 * 24 * 3600));
        assertThat(exact.endpoint().staleThreshold()).isEqualTo(Duration.ZERO);
    }
}
