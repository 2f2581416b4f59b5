package io.cfrouter.core;

import java.util.AbstractSet;
import java.util.Collection;
import java.util.Collections;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.IntFunction;

/**
 * An immutable map of strings for an endpoint's tags, in as little memory as it can: the first two entries
 * are fields of the map object itself and any further ones sit in one array of alternating keys and values.
 * A registry holds one endpoint per route, so at 100 000 routes with two tags each this is 32 bytes instead of
 * the 80 of {@link Map#copyOf} (a map object plus its probe table).
 *
 * <p>Iterates in the order of the map it was copied from. Lookups compare keys one by one, which is what a
 * handful of tags needs. Null keys and values are rejected, as {@link Map#copyOf} rejects them; every
 * mutator throws {@link UnsupportedOperationException}.
 */
final class CompactStringMap implements Map<String, String> {

    private final String k0;
    private final String v0;
    /** {@code null} when the map has one entry. */
    private final String k1;
    private final String v1;
    /** The entries after the first two, key then value; {@code null} when there are none. */
    private final String[] more;

    private CompactStringMap(String[] entries, int count) {
        k0 = entries[0];
        v0 = entries[1];
        k1 = count > 1 ? entries[2] : null;
        v1 = count > 1 ? entries[3] : null;
        more = count > 2 ? java.util.Arrays.copyOfRange(entries, 4, count * 2) : null;
    }

    /**
     * An immutable copy of {@code map}: {@code map} itself if it is already one, {@link Map#of()} if empty.
     *
     * @throws NullPointerException if a key or value is {@code null}
     */
    static Map<String, String> copyOf(Map<String, String> map) {
        if (map instanceof CompactStringMap) {
            return map;
        }
        String[] entries = new String[Math.max(2, map.size()) * 2];
        int count = 0;
        for (Map.Entry<String, String> e : map.entrySet()) {
            String key = Objects.requireNonNull(e.getKey(), "tag name");
            String value = Objects.requireNonNull(e.getValue(), "tag value");
            if (count * 2 == entries.length) {
                entries = java.util.Arrays.copyOf(entries, entries.length * 2);
            }
            entries[count * 2] = key;
            entries[count * 2 + 1] = value;
            count++;
        }
        return count == 0 ? Map.of() : new CompactStringMap(entries, count);
    }

    private String key(int i) {
        return i == 0 ? k0 : i == 1 ? k1 : more[(i - 2) * 2];
    }

    private String value(int i) {
        return i == 0 ? v0 : i == 1 ? v1 : more[(i - 2) * 2 + 1];
    }

    @Override
    public int size() {
        return more != null ? 2 + more.length / 2 : k1 != null ? 2 : 1;
    }

    @Override
    public boolean isEmpty() {
        return false;
    }

    @Override
    public String get(Object key) {
        return getOrDefault(key, null);
    }

    @Override
    public String getOrDefault(Object key, String defaultValue) {
        Objects.requireNonNull(key);
        if (key.equals(k0)) {
            return v0;
        }
        if (key.equals(k1)) {
            return v1;
        }
        if (more != null) {
            for (int i = 0; i < more.length; i += 2) {
                if (key.equals(more[i])) {
                    return more[i + 1];
                }
            }
        }
        return defaultValue;
    }

    @Override
    public boolean containsKey(Object key) {
        return getOrDefault(key, null) != null;
    }

    @Override
    public boolean containsValue(Object value) {
        Objects.requireNonNull(value);
        for (int i = 0, n = size(); i < n; i++) {
            if (value.equals(value(i))) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void forEach(BiConsumer<? super String, ? super String> action) {
        for (int i = 0, n = size(); i < n; i++) {
            action.accept(key(i), value(i));
        }
    }

    @Override
    public Set<Entry<String, String>> entrySet() {
        return new View<>(i -> Map.entry(key(i), value(i)));
    }

    @Override
    public Set<String> keySet() {
        return new View<>(this::key);
    }

    @Override
    public Collection<String> values() {
        String[] values = new String[size()];
        java.util.Arrays.setAll(values, this::value);
        return Collections.unmodifiableList(java.util.Arrays.asList(values));
    }

    /** The keys or the entries, by index. */
    private final class View<E> extends AbstractSet<E> {
        private final IntFunction<E> at;

        View(IntFunction<E> at) {
            this.at = at;
        }

        @Override
        public Iterator<E> iterator() {
            return new Iterator<>() {
                private int next;

                @Override
                public boolean hasNext() {
                    return next < size();
                }

                @Override
                public E next() {
                    if (!hasNext()) {
                        throw new NoSuchElementException();
                    }
                    return at.apply(next++);
                }
            };
        }

        @Override
        public int size() {
            return CompactStringMap.this.size();
        }
    }

    @Override
    public boolean equals(Object o) {
        if (o == this) {
            return true;
        }
        if (!(o instanceof Map<?, ?> other) || other.size() != size()) {
            return false;
        }
        try {
            for (int i = 0, n = size(); i < n; i++) {
                if (!value(i).equals(other.get(key(i)))) {
                    return false;
                }
            }
        } catch (ClassCastException | NullPointerException e) {
            return false;
        }
        return true;
    }

    @Override
    public int hashCode() {
        int h = 0;
        for (int i = 0, n = size(); i < n; i++) {
            h += key(i).hashCode() ^ value(i).hashCode();
        }
        return h;
    }

    @Override
    public String toString() {
        StringBuilder out = new StringBuilder("{");
        for (int i = 0, n = size(); i < n; i++) {
            out.append(i == 0 ? "" : ", ").append(key(i)).append('=').append(value(i));
        }
        return out.append('}').toString();
    }

    // ---- immutable ------------------------------------------------------------------------------------

    @Override
    public String put(String key, String value) {
        throw immutable();
    }

    @Override
    public String remove(Object key) {
        throw immutable();
    }

    @Override
    public void putAll(Map<? extends String, ? extends String> m) {
        throw immutable();
    }

    @Override
    public void clear() {
        throw immutable();
    }

    @Override
    public void replaceAll(BiFunction<? super String, ? super String, ? extends String> function) {
        throw immutable();
    }

    @Override
    public String putIfAbsent(String key, String value) {
        throw immutable();
    }

    @Override
    public boolean remove(Object key, Object value) {
        throw immutable();
    }

    @Override
    public boolean replace(String key, String oldValue, String newValue) {
        throw immutable();
    }

    @Override
    public String replace(String key, String value) {
        throw immutable();
    }

    @Override
    public String computeIfAbsent(String key, Function<? super String, ? extends String> mappingFunction) {
        throw immutable();
    }

    @Override
    public String computeIfPresent(String key,
                                   BiFunction<? super String, ? super String, ? extends String> remappingFunction) {
        throw immutable();
    }

    @Override
    public String compute(String key, BiFunction<? super String, ? super String, ? extends String> remappingFunction) {
        throw immutable();
    }

    @Override
    public String merge(String key, String value,
                        BiFunction<? super String, ? super String, ? extends String> remappingFunction) {
        throw immutable();
    }

    private static UnsupportedOperationException immutable() {
        return new UnsupportedOperationException("endpoint tags are immutable");
    }
}
