package io.cfrouter.registry;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * The keys of the routing table in flat arrays: one open-addressing table for every host key
 * ({@code app.example.com}, {@code *.example.com}) and every path key ({@code app.example.com/api}), all
 * lower case, each with its route (or {@code null}) and, for a host, the set of path depths under it.
 * Written by one thread at a time (the caller holds the registry's write lock), read by any number of
 * threads without locking.
 *
 * <p>Laid out so that a lookup touches few cache lines and no object but the arrays: a slot is one
 * {@code long} holding 16 bits of the key's hash (a tag), the host's path depth set (16 bits: bit
 * {@code n - 1} for {@code n} segments, the last bit for 16 or more) and the offset of the key's
 * bytes in a shared byte array (the arena). A probe compares tags without leaving the slot array, a
 * hit compares the key's bytes from the arena against the request's, eight at a time, and the depths come
 * with the slot. Neither the probe nor the comparison allocates or reads the route object. A lookup
 * lower-cases the request into a byte buffer of its own once ({@link #lowerInto}) and hashes and compares
 * from there, a word at a time.
 *
 * <p>Publication: a new key's characters are written to the arena past the last published key, then its
 * slot with release semantics, so a reader that sees the slot sees the characters. A slot keeps its key until
 * the arrays are rebuilt: when its route goes, the route becomes {@code null} (a dead entry, which the same
 * key revives), so a reader never sees a slot change keys under it. A rebuild copies the live entries into
 * new arrays and publishes them through one {@code volatile} field; it happens when live and dead entries
 * fill the slots or the arena, and a rebuild sized from the live entries alone also shrinks the table. The
 * table is 16 such shards, chosen by bits of the hash.
 *
 * <p>The arena holds each key as a length header (a var-int of its length in bytes) followed by its
 * bytes: one for an ASCII character, two or three for any other (see {@link #lowerInto}), and
 * {@link #PADDING} bytes after the last key.
 */
final class KeyTable<T> {

    /** One shard's arrays as one unit: a reader reads them once per probe ({@link #arrays(int)}). */
    static final class Arrays {
        /** {@code tag << 48 | depths << 32 | arena offset}; {@code 0} is an empty slot (offset 0 is unused). */
        final long[] slots;
        /**
         * The route of each slot, or {@code null}: an array of the table's route type (see
         * {@link KeyTable#KeyTable}), so that a reader that knows the type reads a route without a type check.
         */
        final Object[] routes;
        final byte[] arena;

        Arrays(int capacity, int arenaBytes, IntFunction<? extends Object[]> newRoutes) {
            slots = new long[capacity];
            routes = newRoutes.apply(capacity);
            arena = new byte[arenaBytes + PADDING];
        }
    }

    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle ROUTE = MethodHandles.arrayElementVarHandle(Object[].class);
    /** The path depths a slot can hold: bit {@code n - 1} for {@code n} segments, the last for more. */
    static final int PATH_DEPTHS = 16;
    private static final long DEPTH_BITS = 0xffffL << 32;
    private static final int MIN_CAPACITY = 8;
    private static final int MIN_ARENA = 256;

    /** Shards: a power of two, chosen by hash bits that neither the slot index nor the tag uses. */
    private static final int SHARDS = 16;

    private final Shard[] shards = new Shard[SHARDS];

    /**
     * An empty table whose route arrays {@code newRoutes} makes ({@code Pool[]::new}): a route read from an
     * array of its own type needs no check of the object's type, which would read the object (a cache miss in
     * a large table) before a lookup that only returns it could finish.
     */
    KeyTable(IntFunction<T[]> newRoutes) {
        for (int s = 0; s < SHARDS; s++) {
            shards[s] = new Shard(newRoutes);
        }
    }

    // ---- shared by readers and writers ----------------------------------------------------------------

    /** {@link #lower} of each ASCII {@code char}: a load instead of compares and a branch per character. */
    private static final byte[] LOWER_ASCII = new byte[0x80];

    static {
        for (char c = 0; c < 0x80; c++) {
            LOWER_ASCII[c] = (byte) Character.toLowerCase(c);
        }
    }

    /** Eight bytes of a byte array as one {@code long}, at any offset. */
    private static final VarHandle WORD = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    /**
     * Bytes every array this class reads keys from keeps past the last key byte: a key's last bytes are read
     * as a whole word (and the bytes past the key masked off), so the word must lie within the array.
     */
    static final int PADDING = 8;
    /** The most bytes one {@code char} takes in a key: see {@link #encode(char, byte[], int)}. */
    static final int MAX_BYTES_PER_CHAR = 3;
    private static final long PLAIN_SEED = 0x243F6A8885A308D3L;
    private static final long STAR_SEED = 0x13198A2E03707344L;
    private static final long M1 = 0x9E3779B97F4A7C15L;
    private static final long M2 = 0xBF58476D1CE4E5B9L;

    /** The lower-case {@code char} a key holds for {@code c}: the rule {@code RouteKey.lowerCase} applies. */
    static char lower(char c) {
        return c < 0x80 ? (char) LOWER_ASCII[c] : Character.toLowerCase(c);
    }

    /**
     * Writes the lower-cased {@code s[from, to)} into {@code b} at {@code at} as key bytes and returns the
     * offset after them. {@code b} needs room for {@link #MAX_BYTES_PER_CHAR} bytes a character plus
     * {@link #PADDING}.
     */
    static int lowerInto(String s, int from, int to, byte[] b, int at) {
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                b[at++] = LOWER_ASCII[c];
            } else {
                at = encode(Character.toLowerCase(c), b, at);
            }
        }
        return at;
    }

    /**
     * The bytes of one character of a key: ASCII as itself, any other {@code char} as two or three bytes of
     * 0x80 or more, as UTF-8 lays out a code point (a surrogate on its own, as the {@code char} it is). One
     * {@code char} to one byte sequence and back, so two keys are equal exactly when their bytes are, and a
     * {@code /} or a {@code .} byte is always that character.
     */
    private static int encode(char c, byte[] b, int at) {
        if (c < 0x80) {
            b[at++] = (byte) c;
        } else if (c < 0x800) {
            b[at++] = (byte) (0xc0 | c >>> 6);
            b[at++] = (byte) (0x80 | c & 0x3f);
        } else {
            b[at++] = (byte) (0xe0 | c >>> 12);
            b[at++] = (byte) (0x80 | c >>> 6 & 0x3f);
            b[at++] = (byte) (0x80 | c & 0x3f);
        }
        return at;
    }

    /**
     * The hash of the key whose bytes are {@code b[from, to)} (a key starting with {@code *} hashes as
     * {@link #starHash} of the rest, so that a wildcard's hash comes from the request's suffix alone).
     */
    static int hash(byte[] b, int from, int to) {
        return from < to && b[from] == '*' ? starHash(b, from + 1, to) : hash(PLAIN_SEED, b, from, to);
    }

    /** The hash of the key {@code *} followed by the bytes {@code b[from, to)}. */
    static int starHash(byte[] b, int from, int to) {
        return hash(STAR_SEED, b, from, to);
    }

    /** Eight bytes a step: a multiply and a shift a word, then a final mix of the bits into 32. */
    private static int hash(long seed, byte[] b, int from, int to) {
        long h = seed ^ (to - from) * M2;
        int i = from;
        for (; i + 8 <= to; i += 8) {
            h = (h ^ (long) WORD.get(b, i)) * M1;
            h ^= h >>> 29;
        }
        if (i < to) {
            h = (h ^ (long) WORD.get(b, i) & -1L >>> (i + 8 - to << 3)) * M1;
        }
        h = (h ^ h >>> 32) * M2;
        return (int) (h ^ h >>> 29);
    }

    /** Whether {@code x[xFrom, xFrom + n)} and {@code y[yFrom, yFrom + n)} hold the same bytes; a word a step. */
    private static boolean sameBytes(byte[] x, int xFrom, byte[] y, int yFrom, int n) {
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            if ((long) WORD.get(x, xFrom + i) != (long) WORD.get(y, yFrom + i)) {
                return false;
            }
        }
        return i == n || (((long) WORD.get(x, xFrom + i) ^ (long) WORD.get(y, yFrom + i))
                & -1L >>> (i + 8 - n << 3)) == 0;
    }

    /**
     * Scatters similar keys: hashes of keys that differ in their last characters ({@code app-1},
     * {@code app-2}) are close together and would form long runs in a linearly probed table.
     */
    static int spread(int h) {
        int x = h * 0x9E3779B9;
        return x ^ (x >>> 16);
    }

    /** The 16 bits of a key's hash its slot keeps: the scattered high half, apart from the index's bits. */
    private static long tag(int hash) {
        return (long) ((hash * 0x9E3779B9) >>> 16) << 48;
    }

    /** The arrays of the shard of the key whose hash is {@code hash}: read once per probe. */
    Arrays arrays(int hash) {
        return shards[shard(hash)].arrays;
    }

    private static int shard(int hash) {
        return (hash * 0x85EBCA6B) >>> 28; // another multiplier than spread's and tag's: independent bits
    }

    /**
     * The slot in {@code a} of the key {@code [*]b[from, to)} ({@code star} puts a {@code *} in front), whose
     * bytes are lower case (see {@link #lowerInto}), or {@code -1}. {@code hash} must be {@link #hash} of
     * exactly that key. The slot may hold a dead entry (no route, no path depths). Lock-free, allocation-free.
     */
    static int find(Arrays a, int hash, boolean star, byte[] b, int from, int to) {
        for (int i = candidate(a, hash, home(a, hash)); i >= 0; i = candidate(a, hash, next(a, i))) {
            if (keyAt(a, i, star, b, from, to)) {
                return i;
            }
        }
        return -1;
    }

    /** Where the probe for {@code hash} starts. */
    static int home(Arrays a, int hash) {
        return spread(hash) & (a.slots.length - 1);
    }

    /** The slot after {@code i} in probe order. */
    static int next(Arrays a, int i) {
        return (i + 1) & (a.slots.length - 1);
    }

    /**
     * The first slot from {@code i} on, in probe order, whose tag is that of {@code hash}: a candidate for
     * the key, to confirm with {@link #keyAt}; or {@code -1} once the probe meets an empty slot. With
     * {@link #home} and {@link #next} this is {@link #find} in steps, so that a lookup can read a
     * candidate's route while its key is compared.
     */
    static int candidate(Arrays a, int hash, int i) {
        long[] slots = a.slots;
        int mask = slots.length - 1;
        long tag = tag(hash);
        for (; ; i = (i + 1) & mask) {
            long s = (long) SLOT.getAcquire(slots, i);
            if (s == 0) {
                return -1;
            }
            if ((s & 0xffffL << 48) == tag) {
                return i;
            }
        }
    }

    /** Whether slot {@code i} holds the key described at {@link #find}. */
    static boolean keyAt(Arrays a, int i, boolean star, byte[] b, int from, int to) {
        byte[] arena = a.arena;
        int at = (int) a.slots[i];
        int length = (star ? 1 : 0) + to - from;
        int header = arena[at];
        if (header == length) {
            at++; // the common case: a one-byte header
        } else if (header >= 0) {
            return false; // a one-byte header of another length
        } else {
            header = header(arena, at);
            if (header != length) {
                return false;
            }
            at += headerBytes(header);
        }
        if (star) {
            if (arena[at] != '*') {
                return false;
            }
            at++;
        }
        return sameBytes(arena, at, b, from, to - from);
    }

    /** The route in slot {@code i} of {@code a}, or {@code null}. */
    @SuppressWarnings("unchecked")
    static <T> T route(Arrays a, int i) {
        return (T) ROUTE.getAcquire(a.routes, i);
    }

    /** The path depths under the host key in slot {@code i} of {@code a}. */
    static int pathDepths(Arrays a, int i) {
        return depths((long) SLOT.getAcquire(a.slots, i));
    }

    private static int depths(long slot) {
        return (int) (slot >>> 32) & 0xffff;
    }

    private static boolean isLive(Arrays a, int i) {
        return a.routes[i] != null || depths(a.slots[i]) != 0;
    }

    // ---- writers (the caller holds the registry's write lock) -------------------------------------------

    /**
     * A key prepared for a writer ({@link #prepare}): its lower-case bytes and their hash, so that an update that
     * asks for one key two or three times (its route, then setting it; a host's route, then its path depths)
     * lowers and hashes it once. One writer's, under its lock; it holds no reference to the key (a reference
     * stored per update would cost a collector's write barrier: G1's fences).
     */
    static final class Key {
        private byte[] bytes = new byte[256];
        private int length;
        private int hash;

        /** {@link KeyTable#hash} of the key. */
        int hash() {
            return hash;
        }
    }

    /**
     * The key of the {@code String} methods below, which this class's tests and the registry's test-only
     * bucket queries use; the registry's writes prepare keys of their own.
     */
    private final Key scratch = new Key();

    /** Fills {@code into} with the lower-case {@code key}'s bytes and hash; returns it. */
    static Key prepare(Key into, String key) {
        int room = key.length() * MAX_BYTES_PER_CHAR + PADDING;
        if (into.bytes.length < room) {
            into.bytes = new byte[room];
        }
        into.length = lowerInto(key, 0, key.length(), into.bytes, 0);
        into.hash = hash(into.bytes, 0, into.length);
        return into;
    }

    /** The slot of the lower-case {@code key} in its shard's current arrays, or {@code -1}. */
    int slot(String key) {
        Key k = prepare(scratch, key);
        return find(arrays(k.hash), k.hash, false, k.bytes, 0, k.length);
    }

    /** {@link #hash} of the lower-case {@code key}. */
    int hash(String key) {
        return prepare(scratch, key).hash;
    }

    /** The route of the lower-case {@code key}, or {@code null}. */
    T route(String key) {
        return route(prepare(scratch, key));
    }

    /** The route of the prepared key {@code k}, or {@code null}. */
    T route(Key k) {
        Arrays a = arrays(k.hash);
        for (int i = candidate(a, k.hash, home(a, k.hash)); i >= 0; i = candidate(a, k.hash, next(a, i))) {
            // Read before the comparison, so that its cache miss overlaps the key's (as the lookup does).
            T route = route(a, i);
            if (keyAt(a, i, false, k.bytes, 0, k.length)) {
                return route;
            }
        }
        return null;
    }

    /** The path depths under the lower-case host {@code key}; 0 if it has none. */
    int pathDepths(String key) {
        return pathDepths(prepare(scratch, key));
    }

    /** The path depths under the prepared host key {@code k}; 0 if it has none. */
    int pathDepths(Key k) {
        Arrays a = arrays(k.hash);
        int i = find(a, k.hash, false, k.bytes, 0, k.length);
        return i < 0 ? 0 : depths(a.slots[i]);
    }

    /**
     * Sets the route of the lower-case {@code key}, adding the key if it has no slot; {@code null} leaves
     * the entry dead unless it has path depths.
     */
    void setRoute(String key, T route) {
        setRoute(prepare(scratch, key), route);
    }

    /** {@link #setRoute(String, Object)} for the prepared key {@code k}. */
    void setRoute(Key k, T route) {
        Shard shard = shards[shard(k.hash)];
        int i = route == null ? find(shard.arrays, k.hash, false, k.bytes, 0, k.length)
                : shard.add(k.hash, k.bytes, k.length);
        if (i >= 0) {
            Arrays a = shard.arrays;
            boolean wasLive = isLive(a, i);
            ROUTE.setRelease(a.routes, i, route);
            shard.count(a, i, wasLive);
        }
    }

    /**
     * Sets the path depths (16 bits, see {@link #PATH_DEPTHS}) of the lower-case host {@code key}, adding
     * the key if it has no slot.
     */
    void setPathDepths(String key, int depths) {
        setPathDepths(prepare(scratch, key), depths);
    }

    /** {@link #setPathDepths(String, int)} for the prepared host key {@code k}. */
    void setPathDepths(Key k, int depths) {
        Shard shard = shards[shard(k.hash)];
        int i = depths == 0 ? find(shard.arrays, k.hash, false, k.bytes, 0, k.length)
                : shard.add(k.hash, k.bytes, k.length);
        if (i >= 0) {
            Arrays a = shard.arrays;
            boolean wasLive = isLive(a, i);
            SLOT.setRelease(a.slots, i, a.slots[i] & ~DEPTH_BITS | (long) depths << 32);
            shard.count(a, i, wasLive);
        }
    }

    /** Keys with a route or path depths. */
    int size() {
        int size = 0;
        for (Shard shard : shards) {
            size += shard.live;
        }
        return size;
    }

    /** Slots in all shards (for tests). */
    int capacity() {
        int capacity = 0;
        for (Shard shard : shards) {
            capacity += shard.arrays.slots.length;
        }
        return capacity;
    }

    /** Arena bytes in all shards (for tests). */
    long arenaBytes() {
        long bytes = 0;
        for (Shard shard : shards) {
            bytes += shard.arrays.arena.length;
        }
        return bytes;
    }

    /**
     * The route arrays of the shards' current arrays, for a sweep: they hold routes and {@code null}s. A
     * later write may go to newer arrays; routes seen here stay valid objects.
     */
    List<Object[]> routesForSweep() {
        List<Object[]> routes = new ArrayList<>(SHARDS);
        for (Shard shard : shards) {
            routes.add(shard.arrays.routes);
        }
        return routes;
    }

    /**
     * One shard: its arrays and their counts. Sharding keeps each array small (at 100 000 keys a shard's
     * slots take 64 KB and its arena about 200 KB), so no array is a humongous object for G1 (one of half a
     * region or more, which takes whole regions), and a rebuild copies one shard at a time.
     */
    private static final class Shard {
        private final IntFunction<? extends Object[]> newRoutes;
        volatile Arrays arrays;

        Shard(IntFunction<? extends Object[]> newRoutes) {
            this.newRoutes = newRoutes;
            arrays = new Arrays(MIN_CAPACITY, MIN_ARENA, newRoutes);
        }

        /** Entries with a route or a path depth; written under the caller's lock. */
        int live;
        /** Slots taken by live and dead entries. */
        int used;
        /** Arena bytes written, including those of dead entries; byte 0 is never used. */
        int arenaUsed = 1;

        /** Arena bytes of the live entries (headers and keys): what a rebuild copies. */
        int liveBytes;

        /** Counts slot {@code i} of {@code a} in or out of {@link #live} after a write, if it changed. */
        void count(Arrays a, int i, boolean wasLive) {
            boolean isLive = isLive(a, i);
            if (wasLive != isLive) {
                int sign = isLive ? 1 : -1;
                live += sign;
                liveBytes += sign * storedLength(a.arena, (int) a.slots[i]);
            }
        }

        /** The slot of the key {@code b[0, n)} (hash {@code hash}) in the current arrays, adding it if absent. */
        int add(int hash, byte[] b, int n) {
            int i = find(arrays, hash, false, b, 0, n);
            if (i >= 0) {
                return i;
            }
            int bytes = headerBytes(n) + n;
            Arrays a = arrays;
            boolean slotsFull = (used + 1) * 16L > a.slots.length * 13L;
            if (slotsFull || arenaUsed + bytes > a.arena.length - PADDING) {
                rebuild(slotsFull, bytes);
                a = arrays;
            }
            int at = arenaUsed;
            arenaUsed = store(b, n, a.arena, at);
            int mask = a.slots.length - 1;
            i = spread(hash) & mask;
            while (a.slots[i] != 0) {
                i = (i + 1) & mask;
            }
            used++;
            SLOT.setRelease(a.slots, i, tag(hash) | at);
            return i;
        }

        /**
         * Copies the live entries into new arrays, dropping dead entries and their characters. The slots double
         * when they filled up with live entries past half ({@code slotsFull}), halve when under an eighth is
         * live, and otherwise stay as they are; the arena gets half as much room again as the live characters
         * plus {@code extraBytes} need.
         */
        private void rebuild(boolean slotsFull, int extraBytes) {
            Arrays old = arrays;
            int capacity = old.slots.length;
            while (slotsFull && (live + 1) * 2L > capacity) {
                capacity <<= 1;
            }
            while (capacity > MIN_CAPACITY && (live + 1) * 8L < capacity) {
                capacity >>= 1;
            }
            long arenaBytes = Math.max(MIN_ARENA, (1L + liveBytes + extraBytes) * 3 / 2);
            if (arenaBytes > Integer.MAX_VALUE - 16) {
                throw new IllegalStateException("route keys: over 1 GB of characters");
            }
            Arrays a = new Arrays(capacity, (int) arenaBytes, newRoutes);
            int mask = capacity - 1;
            int at = 1;
            for (int j = 0; j < old.slots.length; j++) {
                if (!isLive(old, j)) {
                    continue;
                }
                long s = old.slots[j];
                int from = (int) s;
                int length = storedLength(old.arena, from);
                System.arraycopy(old.arena, from, a.arena, at, length);
                int i = spread(storedHash(old.arena, from)) & mask;
                while (a.slots[i] != 0) {
                    i = (i + 1) & mask;
                }
                a.slots[i] = s & 0xffff_ffff_0000_0000L | at;
                // One element by arraycopy: both arrays are of the route type, which the copy checks once, where
                // an array store would check each route's own type, reading every live route object (a cache
                // miss each in a large table).
                System.arraycopy(old.routes, j, a.routes, i, 1);
                at += length;
            }
            assert at == 1 + liveBytes : "live bytes counted " + liveBytes + ", copied " + (at - 1);
            used = live;
            arenaUsed = at;
            arrays = a;
        }
    }

    /** Bytes of the entry at {@code at}: its header and the key's bytes. */
    private static int storedLength(byte[] arena, int at) {
        int header = header(arena, at);
        return headerBytes(header) + header;
    }

    /** {@link #hash} of the key at {@code at} (a slot keeps only a tag of it). */
    private static int storedHash(byte[] arena, int at) {
        int n = header(arena, at);
        int from = at + headerBytes(n);
        return hash(arena, from, from + n);
    }

    /** The var-int header (the key's length in bytes) of the entry at {@code at}. */
    private static int header(byte[] arena, int at) {
        int header = 0;
        int shift = 0;
        int b;
        do {
            b = arena[at++];
            header |= (b & 0x7f) << shift;
            shift += 7;
        } while (b < 0);
        return header;
    }

    private static int headerBytes(int header) {
        int bytes = 1;
        while ((header >>>= 7) != 0) {
            bytes++;
        }
        return bytes;
    }

    /** Writes the entry of the key {@code b[0, n)} at {@code at}; returns the offset after it. */
    private static int store(byte[] b, int n, byte[] arena, int at) {
        int header = n;
        while ((header & ~0x7f) != 0) {
            arena[at++] = (byte) (header & 0x7f | 0x80);
            header >>>= 7;
        }
        arena[at++] = (byte) header;
        System.arraycopy(b, 0, arena, at, n);
        return at + n;
    }
}
