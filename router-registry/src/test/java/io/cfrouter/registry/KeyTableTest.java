package io.cfrouter.registry;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** The flat key table on its own: keys, regions of requests, dead entries, rebuilds, wide characters. */
class KeyTableTest {

    private final KeyTable<String> table = new KeyTable<>(String[]::new);

    /** What a lookup finds for the request host region {@code [*]host} with {@code path}, or null. */
    private String find(boolean star, String host, String path) {
        String request = path == null ? host : host + "/" + path;
        byte[] b = new byte[request.length() * KeyTable.MAX_BYTES_PER_CHAR + KeyTable.PADDING];
        int n = KeyTable.lowerInto(request, 0, request.length(), b, 0);
        int hash = star ? KeyTable.starHash(b, 0, n) : KeyTable.hash(b, 0, n);
        KeyTable.Arrays a = table.arrays(hash);
        int slot = KeyTable.find(a, hash, star, b, 0, n);
        return slot < 0 ? null : KeyTable.route(a, slot);
    }

    private static int hash(String key) {
        byte[] b = new byte[key.length() * KeyTable.MAX_BYTES_PER_CHAR + KeyTable.PADDING];
        return KeyTable.hash(b, 0, KeyTable.lowerInto(key, 0, key.length(), b, 0));
    }

    @Test
    void shouldFindAKeyFromAnyCaseOfTheRequest() {
        table.setRoute("app.example.com", "host");
        table.setRoute("app.example.com/api/v1", "path");
        table.setRoute("*.example.com", "wildcard");

        assertThat(find(false, "APP.Example.COM", null)).isEqualTo("host");
        assertThat(find(false, "app.example.com", "API/v1")).isEqualTo("path");
        assertThat(find(false, "app.example.com", "api")).isNull();
        assertThat(find(true, ".EXAMPLE.com", null)).isEqualTo("wildcard");
        assertThat(find(false, "*.example.com", null)).isEqualTo("wildcard");
        assertThat(find(true, ".example.org", null)).isNull();
        assertThat(find(false, "app.example.co", null)).isNull();
    }

    @Test
    void shouldTellApartKeysWithTheSameHash() {
        // Two keys of the same length with the same 32-bit hash: found by trying keys (about 2^16 of them).
        Map<Integer, String> seen = new HashMap<>();
        String first = null;
        String second = null;
        for (int i = 0; first == null; i++) {
            String key = "k" + (1_000_000 + i) + ".com";
            first = seen.put(hash(key), key);
            second = key;
        }
        assertThat(hash(first)).isEqualTo(hash(second));
        table.setRoute(first, "first");
        table.setRoute(second, "second");

        assertThat(find(false, first, null)).isEqualTo("first");
        assertThat(find(false, second, null)).isEqualTo("second");
        table.setRoute(first, null);
        assertThat(find(false, first, null)).isNull();
        assertThat(find(false, second, null)).isEqualTo("second");
    }

    @Test
    void shouldKeepCharactersBeyondLatin1() {
        table.setRoute("\u03c9mega.com/caf\u00e9", "wide");
        table.setRoute("caf\u00e9.com", "latin-1");

        assertThat(find(false, "\u03a9MEGA.com", "CAF\u00c9")).isEqualTo("wide");
        assertThat(find(false, "\u03c9mega.com", "cafe")).isNull();
        assertThat(find(false, "CAF\u00c9.COM", null)).isEqualTo("latin-1");
        assertThat(find(false, "caf\u0117.com", null)).isNull();
    }

    @Test
    void shouldKeepKeysLongerThanOneHeaderByte() {
        String medium = "a".repeat(100) + ".com";
        String longKey = "b".repeat(10_000) + ".com/" + "p".repeat(9_000);
        table.setRoute(medium, "medium");
        table.setRoute(longKey, "long");

        assertThat(find(false, medium.toUpperCase(), null)).isEqualTo("medium");
        assertThat(find(false, "b".repeat(10_000) + ".com", "p".repeat(9_000))).isEqualTo("long");
        assertThat(find(false, "b".repeat(10_000) + ".com", "p".repeat(8_999))).isNull();
    }

    @Test
    void shouldReviveADeadEntryInItsOwnSlot() {
        table.setRoute("a.com", "one");
        int slot = table.slot("a.com");
        table.setRoute("a.com", null);

        assertThat(find(false, "a.com", null)).isNull();
        assertThat(table.size()).isZero();
        assertThat(table.slot("a.com")).isEqualTo(slot);
        table.setRoute("a.com", "two");
        assertThat(table.slot("a.com")).isEqualTo(slot);
        assertThat(find(false, "a.com", null)).isEqualTo("two");
        assertThat(table.size()).isEqualTo(1);
    }

    @Test
    void shouldKeepAHostWhileItHasPathDepthsEvenWithoutARoute() {
        table.setPathDepths("a.com", 1 << 2);
        assertThat(table.size()).isEqualTo(1);
        assertThat(table.route("a.com")).isNull();
        assertThat(table.pathDepths("a.com")).isEqualTo(4);

        table.setRoute("a.com", "host");
        table.setPathDepths("a.com", 0);
        assertThat(table.size()).isEqualTo(1);
        table.setRoute("a.com", null);
        assertThat(table.size()).isZero();
        assertThat(table.pathDepths("a.com")).isZero();
    }

    @Test
    void shouldKeepEveryLiveKeyThroughGrowthAndChurn() {
        Map<String, String> model = new HashMap<>();
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 3_000; i++) {
            keys.add(i % 3 == 0 ? "h" + i + ".example.com/p/" + i : "h" + i + ".example.com");
        }
        Random random = new Random(7);
        for (int step = 0; step < 60_000; step++) {
            String key = keys.get(random.nextInt(keys.size()));
            String value = random.nextInt(3) == 0 ? null : "v" + step;
            table.setRoute(key, value);
            if (value == null) {
                model.remove(key);
            } else {
                model.put(key, value);
            }
        }
        assertThat(table.size()).isEqualTo(model.size());
        for (String key : keys) {
            assertThat(table.route(key)).as(key).isEqualTo(model.get(key));
        }
        // Live keys fill at most 13/16 of the slots, and more than a 16th of them once grown (in each of the
        // 16 shards, at most an eighth after a rebuild, give or take the churn since).
        int capacity = table.capacity();
        assertThat(model.size() * 16L).isLessThanOrEqualTo(capacity * 13L);
        assertThat(model.size() * 16L).isGreaterThanOrEqualTo(capacity);
    }

    @Test
    void shouldShrinkWhenFewKeysAreLeftAndStopGrowingUnderChurnOfFreshKeys() {
        for (int i = 0; i < 10_000; i++) {
            table.setRoute("k" + i + ".com", "v");
        }
        int grown = table.capacity();
        for (int i = 0; i < 10_000; i++) {
            table.setRoute("k" + i + ".com", null);
        }
        // Fresh keys each added then removed: the dead ones are dropped at the next rebuild.
        for (int i = 0; i < 50_000; i++) {
            table.setRoute("fresh" + i + ".com", "v");
            table.setRoute("fresh" + i + ".com", null);
        }
        table.setRoute("last.com", "v");

        assertThat(table.size()).isEqualTo(1);
        assertThat(table.capacity()).isLessThan(grown);
        assertThat(table.arenaBytes()).isLessThan(16 * 1024);
        assertThat(table.route("last.com")).isEqualTo("v");
        assertThat(table.route("k5.com")).isNull();
    }

    @Test
    void shouldKeepAnOldArraysViewValidAfterARebuild() {
        table.setRoute("a.com", "a");
        KeyTable.Arrays before = table.arrays(hash("a.com"));
        for (int i = 0; i < 1_000; i++) {
            table.setRoute("n" + i + ".com", "n");
        }

        assertThat(table.arrays(hash("a.com"))).isNotSameAs(before);
        byte[] b = new byte[5 + KeyTable.PADDING];
        int slot = KeyTable.find(before, hash("a.com"), false, b, 0, KeyTable.lowerInto("a.com", 0, 5, b, 0));
        assertThat(KeyTable.<String>route(before, slot)).isEqualTo("a");
        assertThat(table.route("a.com")).isEqualTo("a");
    }
}
