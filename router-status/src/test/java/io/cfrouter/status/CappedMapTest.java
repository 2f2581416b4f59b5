package io.cfrouter.status;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

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
        int threads = 2;
        int rounds = 5_000;
        @SuppressWarnings("unchecked")
        CappedMap<String>[] maps = new CappedMap[rounds];
        for (int r = 0; r < rounds; r++) {
            maps[r] = new CappedMap<>(1, name -> name);
        }
        AtomicInteger[] admitted = new AtomicInteger[rounds];
        for (int r = 0; r < rounds; r++) {
            admitted[r] = new AtomicInteger();
        }
        AtomicInteger next = new AtomicInteger();
        Racing.onThreads(threads, start -> {
            String name = "name-" + next.getAndIncrement();
            for (int r = 0; r < rounds; r++) {
                start.await(r);
                if (maps[r].get(name) != null) {
                    admitted[r].incrementAndGet();
                }
            }
        });
        for (int r = 0; r < rounds; r++) {
            assertThat(maps[r].size()).as("round %d", r).isEqualTo(1);
            assertThat(admitted[r]).as("round %d", r).hasValue(1);
        }
    }

    /**
     * Two threads asking for the same new name at the same moment, with room for one: both get the one value
     * made, including the thread that finds the map already full (its name's admission filled it).
     */
    @Test
    @Timeout(60)
    void shouldGiveThreadsThatAddTheSameNameTogetherTheOneValue() throws InterruptedException {
        int threads = 2;
        int rounds = 5_000;
        AtomicInteger made = new AtomicInteger();
        @SuppressWarnings("unchecked")
        CappedMap<Object>[] maps = new CappedMap[rounds];
        for (int r = 0; r < rounds; r++) {
            maps[r] = new CappedMap<>(1, name -> {
                made.incrementAndGet();
                return new Object();
            });
        }
        Object[][] got = new Object[threads][rounds];
        AtomicInteger next = new AtomicInteger();
        Racing.onThreads(threads, start -> {
            int me = next.getAndIncrement();
            for (int r = 0; r < rounds; r++) {
                start.await(r);
                got[me][r] = maps[r].get("name");
            }
        });
        assertThat(made).hasValue(rounds);
        for (int r = 0; r < rounds; r++) {
            assertThat(got[0][r]).as("round %d", r).isNotNull().isSameAs(got[1][r]);
        }
    }
}
