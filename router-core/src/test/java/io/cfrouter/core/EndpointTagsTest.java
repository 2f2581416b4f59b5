package io.cfrouter.core;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** An endpoint's tags: an immutable copy that behaves as a {@link Map} whatever its size. */
class EndpointTagsTest {

    private static Map<String, String> tagsOf(Map<String, String> tags) {
        return new Endpoint("10.0.0.1", 80, "", "", "", tags, Duration.ZERO, null).tags();
    }

    private static Map<String, String> ordered(int size) {
        Map<String, String> map = new LinkedHashMap<>();
        IntStream.range(0, size).forEach(i -> map.put("k" + i, "v" + i));
        return map;
    }

    @Test
    void shouldBehaveAsTheMapItCopiesForEverySize() {
        for (int size = 0; size <= 6; size++) {
            Map<String, String> source = ordered(size);
            Map<String, String> tags = tagsOf(source);

            assertThat(tags).isEqualTo(source).hasSize(size);
            assertThat(source).isEqualTo(tags);
            assertThat(tags.hashCode()).isEqualTo(source.hashCode());
            assertThat(tags.toString()).isEqualTo(source.toString());
            assertThat(List.copyOf(tags.keySet())).isEqualTo(List.copyOf(source.keySet()));
            assertThat(List.copyOf(tags.values())).isEqualTo(List.copyOf(source.values()));
            assertThat(List.copyOf(tags.entrySet())).isEqualTo(List.copyOf(source.entrySet()));
            assertThat(tags.isEmpty()).isEqualTo(size == 0);
            for (int i = 0; i < size; i++) {
                assertThat(tags.get("k" + i)).isEqualTo("v" + i);
                assertThat(tags.containsKey("k" + i)).isTrue();
                assertThat(tags.containsValue("v" + i)).isTrue();
                assertThat(tags.keySet()).contains("k" + i);
            }
            assertThat(tags.get("k" + size)).isNull();
            assertThat(tags.getOrDefault("k" + size, "none")).isEqualTo("none");
            assertThat(tags.containsValue("v" + size)).isFalse();
            Map<String, String> seen = new LinkedHashMap<>();
            tags.forEach(seen::put);
            assertThat(seen).isEqualTo(source);
        }
    }

    @Test
    void shouldCompareWithMapsOfOtherKindsBothWays() {
        Map<String, String> tags = tagsOf(Map.of("component", "route-emitter", "app_name", "a"));

        assertThat(tags).isEqualTo(new HashMap<>(Map.of("app_name", "a", "component", "route-emitter")));
        assertThat(tags).isNotEqualTo(Map.of("component", "route-emitter", "app_name", "b"));
        assertThat(tags).isNotEqualTo(Map.of("component", "route-emitter"));
        assertThat(tags.equals(Map.of(1, 2, 3, 4))).isFalse();
        assertThat(tags.equals(List.of())).isFalse();
    }

    @Test
    void shouldBeImmutableAndRejectNulls() {
        Map<String, String> tags = tagsOf(Map.of("a", "1", "b", "2", "c", "3"));

        assertThatThrownBy(() -> tags.put("d", "4")).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> tags.remove("a")).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> tags.putIfAbsent("a", "1")).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> tags.merge("a", "1", String::concat))
                .isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(tags::clear).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> tags.entrySet().iterator().next().setValue("x"))
                .isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> tags.keySet().remove("a")).isInstanceOf(UnsupportedOperationException.class);

        Map<String, String> withNull = new HashMap<>();
        withNull.put("a", null);
        assertThatThrownBy(() -> tagsOf(withNull)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void shouldShareAnAlreadyCompactCopyAndNotFollowTheSource() {
        Map<String, String> source = ordered(3);
        Map<String, String> tags = tagsOf(source);
        source.put("k0", "changed");

        assertThat(tagsOf(tags)).isSameAs(tags);
        assertThat(tags.get("k0")).isEqualTo("v0");
        assertThat(tagsOf(null)).isEmpty();
        assertThat(new Endpoint("10.0.0.1", 80, "", "", "", tags, Duration.ZERO, null))
                .isEqualTo(new Endpoint("10.0.0.1", 80, "", "", "", Map.copyOf(ordered(3)), Duration.ZERO, null));
    }

    @Test
    void shouldGiveTheComponentTag() {
        assertThat(new Endpoint("h", 1, "", "", "", Map.of("component", "c", "x", "y"), null, null).component())
                .isEqualTo("c");
        assertThat(Endpoint.of("h", 1).component()).isEmpty();
    }
}
