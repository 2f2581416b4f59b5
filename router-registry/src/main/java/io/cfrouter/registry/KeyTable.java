package io.cfrouter.registry;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;

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
 * characters in a shared byte array (the arena). A probe compares tags without leaving the slot array, a
 * hit compares the key straight from the arena against the request, lower-casing in place, and the
 * depths come with the slot. Neither the probe nor the comparison allocates or reads the route object.
 *
 * <p>Publication: a new key's characters are written to the arena past the last published key, then its
 * slot with release semantics, so a reader that sees the slot sees the characters. A slot keeps its key until
 * the arrays are rebuilt: when its route goes, the route becomes {@code null} (a dead entry, which the same
 * key revives), so a reader never sees a slot change keys under it. A rebuild copies the live entries into
 * new arrays and publishes them through one {@code volatile} field; it happens when live and dead entries
 * fill the slots or the arena, and a rebuild sized from the live entries alone also shrinks the table. The
 * table is 16 such shards, chosen by bits of the hash.
 *
 * <p>The arena holds each key as a length header (a var-int of {@code length << 1 | utf16}) followed by
 * one byte per character when every character is at most {@code U+00FF}, else two (big-endian).
 */
final class KeyTable<T> {

    /** One shard's arrays as one unit: a reader reads them once per probe ({@link #arrays(int)}). */
    static final class Arrays {
        /** {@code tag << 48 | depths << 32 | arena offset}; {@code 0} is an empty slot (offset 0 is unused). */
        final long[] slots;
        /** The route of each slot, or {@code null}. */
        final Object[] routes;
        final byte[] arena;

        Arrays(int capacity, int arenaBytes) {
            slots = new long[capacity];
            routes = new Object[capacity];
            arena = new byte[arenaBytes];
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

    KeyTable() {
        for (int s = 0; s < SHARDS; s++) {
            shards[s] = new Shard();
        }
    }

    // ---- shared by readers and writers ----------------------------------------------------------------

    /** {@link #lower} of each ASCII {@code char}: a load instead of compares and a branch per character. */
    private static final char[] LOWER_ASCII = new char[0x80];

    static {
        for (char c = 0; c < 0x80; c++) {
            LOWER_ASCII[c] = Character.toLowerCase(c);
        }
    }

    /** The lower-case {@code char} a key holds for {@code c}: the rule {@code RouteKey.lowerCase} applies. */
    static char lower(char c) {
        return c < 0x80 ? LOWER_ASCII[c] : Character.toLowerCase(c);
    }

    /** Continues {@code hash} over the lower-cased {@code s[from, to)}, as {@link String#hashCode()} does. */
    static int hash(int hash, String s, int from, int to) {
        int h = hash;
        int i = from;
        // Two characters a step: the same value (31 * (31 * h + a) + b), half the chain of multiplications.
        for (; i + 1 < to; i += 2) {
            h = 961 * h + 31 * lower(s.charAt(i)) + lower(s.charAt(i + 1));
        }
        return i < to ? 31 * h + lower(s.charAt(i)) : h;
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

    private Shard shardOf(String key) {
        return shards[shard(key.hashCode())];
    }

    /**
     * The slot in {@code a} of the key {@code [*]host[hostFrom, hostTo)[/path[pathFrom, pathTo)]}, lower-cased
     * ({@code star} puts a {@code *} in front; a {@code null} path means a key without one), or {@code -1}.
     * {@code hash} must be {@link String#hashCode()} of exactly that key. The slot may hold a dead entry
     * (no route, no path depths). Lock-free, allocation-free.
     */
    static int find(Arrays a, int hash, boolean star, String host, int hostFrom, int hostTo, String path,
                    int pathFrom, int pathTo) {
        for (int i = candidate(a, hash, home(a, hash)); i >= 0; i = candidate(a, hash, next(a, i))) {
            if (keyAt(a, i, star, host, hostFrom, hostTo, path, pathFrom, pathTo)) {
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
    static boolean keyAt(Arrays a, int i, boolean star, String host, int hostFrom, int hostTo, String path,
                         int pathFrom, int pathTo) {
        int length = (star ? 1 : 0) + hostTo - hostFrom + (path == null ? 0 : 1 + pathTo - pathFrom);
        return matches(a.arena, (int) a.slots[i], length, star, host, hostFrom, hostTo, path, pathFrom, pathTo);
    }

    private static boolean matches(byte[] arena, int at, int length, boolean star, String host, int hostFrom,
                                   int hostTo, String path, int pathFrom, int pathTo) {
        int header = arena[at];
        if (header == length << 1) {
            at++; // the common case: a one-byte header, one byte a character
        } else if (header >= 0 && (header & 1) == 0) {
            return false; // one byte a character, another length
        } else {
            header = header(arena, at);
            if (header >>> 1 != length) {
                return false;
            }
            at += headerBytes(header);
        }
        boolean wide = (header & 1) != 0;
        if (star) {
            if (charAt(arena, at, wide) != '*') {
                return false;
            }
            at += wide ? 2 : 1;
        }
        at = matchesRegion(arena, at, wide, host, hostFrom, hostTo);
        if (at >= 0 && path != null) {
            if (charAt(arena, at, wide) != '/') {
                return false;
            }
            at = matchesRegion(arena, at + (wide ? 2 : 1), wide, path, pathFrom, pathTo);
        }
        return at >= 0;
    }

    /**
     * Whether the key characters at {@code at} are the lower-cased {@code s[from, to)}: the offset after them
     * if so, else {@code -1}.
     */
    private static int matchesRegion(byte[] arena, int at, boolean wide, String s, int from, int to) {
        if (!wide) {
            for (int i = from; i < to; i++) {
                if ((arena[at++] & 0xff) != lower(s.charAt(i))) {
                    return -1;
                }
            }
            return at;
        }
        for (int i = from; i < to; i++, at += 2) {
            if (charAt(arena, at, true) != lower(s.charAt(i))) {
                return -1;
            }
        }
        return at;
    }

    private static char charAt(byte[] arena, int at, boolean wide) {
        return wide ? (char) ((arena[at] & 0xff) << 8 | arena[at + 1] & 0xff) : (char) (arena[at] & 0xff);
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

    /** The slot of the lower-case {@code key} in its shard's current arrays, or {@code -1}. */
    int slot(String key) {
        return shardOf(key).slot(key);
    }

    /** The route of the lower-case {@code key}, or {@code null}. */
    T route(String key) {
        Arrays a = shardOf(key).arrays;
        int i = find(a, key.hashCode(), false, key, 0, key.length(), null, 0, 0);
        return i < 0 ? null : route(a, i);
    }

    /** The path depths under the lower-case host {@code key}; 0 if it has none. */
    int pathDepths(String key) {
        Arrays a = shardOf(key).arrays;
        int i = find(a, key.hashCode(), false, key, 0, key.length(), null, 0, 0);
        return i < 0 ? 0 : depths(a.slots[i]);
    }

    /**
     * Sets the route of the lower-case {@code key}, adding the key if it has no slot; {@code null} leaves
     * the entry dead unless it has path depths.
     */
    void setRoute(String key, T route) {
        Shard shard = shardOf(key);
        int i = route == null ? shard.slot(key) : shard.add(key);
        if (i >= 0) {
            Arrays a = shard.arrays;
            boolean wasLive = isLive(a, i);
            ROUTE.setRelease(a.routes, i, route);
            shard.count(wasLive, isLive(a, i));
        }
    }

    /**
     * Sets the path depths (16 bits, see {@link #PATH_DEPTHS}) of the lower-case host {@code key}, adding
     * the key if it has no slot.
     */
    void setPathDepths(String key, int depths) {
        Shard shard = shardOf(key);
        int i = depths == 0 ? shard.slot(key) : shard.add(key);
        if (i >= 0) {
            Arrays a = shard.arrays;
            boolean wasLive = isLive(a, i);
            SLOT.setRelease(a.slots, i, a.slots[i] & ~DEPTH_BITS | (long) depths << 32);
            shard.count(wasLive, isLive(a, i));
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
        volatile Arrays arrays = new Arrays(MIN_CAPACITY, MIN_ARENA);
        /** Entries with a route or a path depth; written under the caller's lock. */
        int live;
        /** Slots taken by live and dead entries. */
        int used;
        /** Arena bytes written, including those of dead entries; byte 0 is never used. */
        int arenaUsed = 1;

        int slot(String key) {
            return find(arrays, key.hashCode(), false, key, 0, key.length(), null, 0, 0);
        }

        void count(boolean wasLive, boolean isLive) {
            if (wasLive != isLive) {
                live += isLive ? 1 : -1;
            }
        }

        /** The slot of {@code key} in the current arrays, adding it (as a dead entry) if absent. */
        int add(String key) {
            int hash = key.hashCode();
            int i = find(arrays, hash, false, key, 0, key.length(), null, 0, 0);
            if (i >= 0) {
                return i;
            }
            int bytes = encodedLength(key);
            Arrays a = arrays;
            boolean slotsFull = (used + 1) * 16L > a.slots.length * 13L;
            if (slotsFull || arenaUsed + bytes > a.arena.length) {
                rebuild(slotsFull, bytes);
                a = arrays;
            }
            int at = arenaUsed;
            arenaUsed = encode(key, a.arena, at);
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
            int liveBytes = 1;
            for (int i = 0; i < old.slots.length; i++) {
                if (isLive(old, i)) {
                    liveBytes += storedLength(old.arena, (int) old.slots[i]);
                }
            }
            long arenaBytes = Math.max(MIN_ARENA, (liveBytes + extraBytes) * 3L / 2);
            if (arenaBytes > Integer.MAX_VALUE - 8) {
                throw new IllegalStateException("route keys: over 1 GB of characters");
            }
            Arrays a = new Arrays(capacity, (int) arenaBytes);
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
                a.routes[i] = old.routes[j];
                at += length;
            }
            used = live;
            arenaUsed = at;
            arrays = a;
        }
    }

    /** Bytes of the entry at {@code at}: its header and characters. */
    private static int storedLength(byte[] arena, int at) {
        int header = header(arena, at);
        return headerBytes(header) + (header >>> 1) * ((header & 1) + 1);
    }

    /** {@link String#hashCode()} of the key at {@code at} (a slot keeps only a tag of it). */
    private static int storedHash(byte[] arena, int at) {
        int header = header(arena, at);
        boolean wide = (header & 1) != 0;
        int h = 0;
        for (int i = 0, c = at + headerBytes(header); i < header >>> 1; i++, c += wide ? 2 : 1) {
            h = 31 * h + charAt(arena, c, wide);
        }
        return h;
    }

    /** The var-int header ({@code length << 1 | wide}) of the entry at {@code at}. */
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

    private static boolean isNarrow(String key) {
        for (int i = 0; i < key.length(); i++) {
            if (key.charAt(i) > 0xff) {
                return false;
            }
        }
        return true;
    }

    private static int encodedLength(String key) {
        return headerBytes(key.length() << 1) + key.length() * (isNarrow(key) ? 1 : 2);
    }

    /** Writes {@code key} at {@code at}; returns the offset after it. */
    private static int encode(String key, byte[] arena, int at) {
        boolean narrow = isNarrow(key);
        int header = key.length() << 1 | (narrow ? 0 : 1);
        while ((header & ~0x7f) != 0) {
            arena[at++] = (byte) (header & 0x7f | 0x80);
            header >>>= 7;
        }
        arena[at++] = (byte) header;
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (narrow) {
                arena[at++] = (byte) c;
            } else {
                arena[at++] = (byte) (c >>> 8);
                arena[at++] = (byte) c;
            }
        }
        return at;
    }
}
