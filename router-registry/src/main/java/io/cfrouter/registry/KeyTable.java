package io.cfrouter.registry;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * An open-addressing hash table of nodes keyed by a lower-case string, written by one thread at a time
 * (the caller holds the registry's write lock) and read by any number of threads without locking.
 *
 * <p>Readers look a key up straight from a region of a request string, lower-casing and comparing each
 * {@code char} in place, so a hit allocates nothing. The hash is {@link String#hashCode()} of the
 * lower-cased key (optionally behind a {@code *}), so a wildcard {@code *.c.com} is found from the request
 * host {@code a.b.c.com} without building the string either.
 *
 * <p>Slots are written with release and read with acquire semantics. Removal leaves a tombstone, so a
 * reader's probe never skips a live node; the table is rebuilt into a new array (published through a
 * {@code volatile} field) when live nodes and tombstones fill three quarters of it.
 */
final class KeyTable<T extends KeyTable.Node> {

    /** A table entry: its lower-case key and that key's hash. */
    abstract static class Node {
        final String key;
        final int hash;

        Node(String key) {
            this.key = key;
            this.hash = key.hashCode();
        }
    }

    private static final Node REMOVED = new Node("") { };
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(Node[].class);
    private static final int MIN_CAPACITY = 4;

    private volatile Node[] slots = new Node[MIN_CAPACITY];
    /** Live nodes; written under the caller's lock. */
    private int size;
    /** Live nodes plus tombstones. */
    private int used;

    /** The lower-case {@code char} a key holds for {@code c}: the rule {@code RouteKey.lowerCase} applies. */
    static char lower(char c) {
        if (c < 0x80) {
            return c >= 'A' && c <= 'Z' ? (char) (c | 0x20) : c;
        }
        return Character.toLowerCase(c);
    }

    /** Continues {@code hash} over the lower-cased {@code s[from, to)}, as {@link String#hashCode()} does. */
    static int hash(int hash, String s, int from, int to) {
        int h = hash;
        for (int i = from; i < to; i++) {
            h = 31 * h + lower(s.charAt(i));
        }
        return h;
    }

    /**
     * The node whose key is the lower-cased {@code src[from, to)}, behind a {@code *} if {@code star}; or
     * {@code null}. {@code hash} must be {@link #hash} of exactly that. Lock-free, allocation-free.
     */
    @SuppressWarnings("unchecked")
    T find(String src, int from, int to, int hash, boolean star) {
        Node[] tab = slots;
        int mask = tab.length - 1;
        int length = to - from + (star ? 1 : 0);
        for (int i = spread(hash) & mask; ; i = (i + 1) & mask) {
            Node n = (Node) SLOT.getAcquire(tab, i);
            if (n == null) {
                return null;
            }
            if (n.hash == hash && n != REMOVED && matches(n.key, length, src, from, to, star)) {
                return (T) n;
            }
        }
    }

    /** {@link #find} for a whole, already lower-case key. */
    T get(String key) {
        return find(key, 0, key.length(), key.hashCode(), false);
    }

    private static boolean matches(String key, int length, String src, int from, int to, boolean star) {
        if (key.length() != length) {
            return false;
        }
        int k = 0;
        if (star) {
            if (key.charAt(0) != '*') {
                return false;
            }
            k = 1;
        }
        for (int i = from; i < to; i++, k++) {
            if (key.charAt(k) != lower(src.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    /**
     * Scatters similar keys: hashes of keys that differ in their last characters ({@code app-1},
     * {@code app-2}) are close together and would form long runs in a linearly probed table.
     */
    static int spread(int h) {
        int x = h * 0x9E3779B9;
        return x ^ (x >>> 16);
    }

    /** Adds {@code node}, or replaces the node with its key. Caller holds the write lock. */
    void put(T node) {
        if ((used + 1) * 4 > slots.length * 3) {
            rebuild(size + 1);
        }
        Node[] tab = slots;
        int mask = tab.length - 1;
        int free = -1;
        for (int i = spread(node.hash) & mask; ; i = (i + 1) & mask) {
            Node n = tab[i];
            if (n == null) {
                if (free < 0) {
                    free = i;
                    used++;
                }
                size++;
                SLOT.setRelease(tab, free, node);
                return;
            }
            if (n == REMOVED) {
                if (free < 0) {
                    free = i;
                }
            } else if (n.hash == node.hash && n.key.equals(node.key)) {
                SLOT.setRelease(tab, i, node);
                return;
            }
        }
    }

    /** Removes the node with {@code key}, if any. Caller holds the write lock. */
    void remove(String key) {
        Node[] tab = slots;
        int mask = tab.length - 1;
        int hash = key.hashCode();
        for (int i = spread(hash) & mask; ; i = (i + 1) & mask) {
            Node n = tab[i];
            if (n == null) {
                return;
            }
            if (n != REMOVED && n.hash == hash && n.key.equals(key)) {
                SLOT.setRelease(tab, i, REMOVED);
                size--;
                if (size == 0 && used > MIN_CAPACITY) {
                    rebuild(0);
                }
                return;
            }
        }
    }

    private void rebuild(int expected) {
        int capacity = MIN_CAPACITY;
        while (capacity < expected * 2 + 2) {
            capacity <<= 1;
        }
        Node[] old = slots;
        Node[] tab = new Node[capacity];
        int mask = capacity - 1;
        for (Node n : old) {
            if (n != null && n != REMOVED) {
                int i = spread(n.hash) & mask;
                while (tab[i] != null) {
                    i = (i + 1) & mask;
                }
                tab[i] = n;
            }
        }
        used = size;
        slots = tab;
    }

    /** Live nodes. */
    int size() {
        return size;
    }

    /**
     * The current slot array, for a sweep: holds nodes, {@code null}s and tombstones (skip anything not a
     * {@code T}). A later write may go to a newer array; nodes seen here stay valid objects.
     */
    Node[] slotsForSweep() {
        return slots;
    }
}
