package io.cfrouter.status;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CappedMapTest {

    @Test
    void shouldMakeAValueOncePerNameUntilFullThenGiveNoneToNewNames() {
        AtomicInteger made = new AtomicInteger();
        CappedMap<Integer> map = new CappedMap<>(2, name -> made.incrementAndGet());

        assertThat(map.get("a")).isEqualTo(1);
        assertThat(map.get("b")).isEqualTo(2);
        assertThat(map.get("a")).isEqualTo(1);
        assertThat(map.get("c")).isNull();
        assertThat(map.get("b")).isEqualTo(2);

        assertThat(made).hasValue(2);
        assertThat(map.size()).isEqualTo(2);
        Map<String, Integer> held = new HashMap<>();
        map.forEach(held::put);
        assertThat(held).containsOnly(Map.entry("a", 1), Map.entry("b", 2));
    }

    @Test
    void shouldFreeTheSlotOfAValueThatCouldNotBeMade() {
        CappedMap<String> map = new CappedMap<>(1, name -> {
            if (name.equals("bad")) {
                throw new IllegalStateException("cannot make " + name);
            }
            return name;
        });

        assertThatThrownBy(() -> map.get("bad")).isInstanceOf(IllegalStateException.class);
        assertThat(map.get("good")).isEqualTo("good");
        assertThat(map.size()).isEqualTo(1);
    }

    @Test
    void shouldHoldNothingWithACapOfZero() {
        CappedMap<String> map = new CappedMap<>(0, name -> name);

        assertThat(map.get("a")).isNull();
        assertThat(map.size()).isZero();
    }

    @Test
    void shouldRefuseANegativeCap() {
        assertThatThrownBy(() -> new CappedMap<>(-1, name -> name))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("max: -1");
    }

    /**
     * Two threads asking for different new names at the same moment, with room for one: exactly one gets a
     * value. Several thousand rounds, as the race is over in nanoseconds; a size check before
     * {@code computeIfAbsent} in place of the claim gives both a value in some of them.
     */
    @Test
    @Timeout(60)
    void shouldAdmitExactlyTheCapWhenThreadsAddDifferentNamesTogether() throws InterruptedException {
        CappedMap<Object>[] maps = mapsOfOne(5_000, name -> name);
        Object[][] got = new Object[2][maps.length];
        Racing.eachRound(2, maps.length, (thread, r) -> got[thread][r] = maps[r].get("name-" + thread));
        for (int r = 0; r < maps.length; r++) {
            assertThat(maps[r].size()).as("round %d", r).isEqualTo(1);
            assertThat(got[0][r] == null).as("round %d: one admitted", r).isNotEqualTo(got[1][r] == null);
        }
    }

    /**
     * Two threads asking for the same new name at the same moment, with room for one: both get the one value
     * made, including the thread that finds the map already full (its name's admission filled it).
     */
    @Test
    @Timeout(60)
    void shouldGiveThreadsThatAddTheSameNameTogetherTheOneValue() throws InterruptedException {
        AtomicInteger made = new AtomicInteger();
        CappedMap<Object>[] maps = mapsOfOne(5_000, name -> {
            made.incrementAndGet();
            return new Object();
        });
        Object[][] got = new Object[2][maps.length];
        Racing.eachRound(2, maps.length, (thread, r) -> got[thread][r] = maps[r].get("name"));
        assertThat(made).hasValue(maps.length);
        for (int r = 0; r < maps.length; r++) {
            assertThat(got[0][r]).as("round %d", r).isNotNull().isSameAs(got[1][r]);
        }
    }

    /** {@code n} maps with room for one name each: a race's outcome per map. */
    @SuppressWarnings("unchecked")
    private static CappedMap<Object>[] mapsOfOne(int n, Function<String, Object> make) {
        CappedMap<Object>[] maps = new CappedMap[n];
        for (int i = 0; i < n; i++) {
            maps[i] = new CappedMap<>(1, make);
        }
        return maps;
    }
}
