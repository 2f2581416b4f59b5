package io.cfrouter.status;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * A concurrent map from names to values made on first use, holding at most {@code max} names however many
 * threads add at once: a name that comes when the map is full gets no value. (A size check before
 * {@code computeIfAbsent} lets each thread racing past it add one name more than the cap.)
 *
 * <p>Thread-safe; looking a present name up takes no lock and allocates nothing.
 */
final class CappedMap<V> {

    private final ConcurrentHashMap<String, V> map = new ConcurrentHashMap<>();
    /** Names admitted, counted before their value is in the map (so at least {@code map.size()}). */
    private final AtomicInteger admitted = new AtomicInteger();
    private final int max;
    private final Function<String, V> make;

    /** A map of at most {@code max} (at least 0) names, whose values {@code make} makes. */
    CappedMap(int max, Function<String, V> make) {
        if (max < 0) {
            throw new IllegalArgumentException("max: " + max + " (expected: >= 0)");
        }
        this.max = max;
        this.make = make;
    }

    /**
     * The value of {@code name}, made now if the name is new and the map has room; {@code null} if the map is
     * full without it. Threads that ask for the same new name at once get the same value.
     */
    V get(String name) {
        V value = map.get(name);
        if (value != null) {
            return value;
        }
        if (map.size() >= max) {
            // The size counts a name only once its value is in, so the admission that filled the map may have
            // been this name's, made by another thread since the first look: a second look finds it. Cheap, as
            // the first look left the same bin in the cache.
            return map.get(name);
        }
        // Under the bin's lock: a thread admitting the same name waits and gets this value; another name past
        // the cap gets no slot (null: no mapping is made).
        return map.computeIfAbsent(name, this::admit);
    }

    /** The value of the new name {@code name} if a slot is left, else null; a value not made frees its slot. */
    private V admit(String name) {
        if (!claim()) {
            return null;
        }
        try {
            return make.apply(name);
        } catch (RuntimeException | Error e) {
            admitted.decrementAndGet();
            throw e;
        }
    }

    /** Takes one of the {@code max} slots if one is left. */
    private boolean claim() {
        for (int a = admitted.get(); a < max; a = admitted.get()) {
            if (admitted.compareAndSet(a, a + 1)) {
                return true;
            }
        }
        return false;
    }

    /** Names held. */
    int size() {
        return map.size();
    }

    /** Each name and its value, as {@link ConcurrentHashMap#forEach(BiConsumer)} gives them. */
    void forEach(BiConsumer<String, V> action) {
        map.forEach(action);
    }
}
