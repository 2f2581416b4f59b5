package io.cfrouter.registry;

import io.cfrouter.core.Endpoint;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The live state of one endpoint address ({@code host:port}), shared by every route the address is in, so
 * that requests in flight and a failure mark count once across routes.
 *
 * <p>{@link #inFlight} and {@link #failedUntilNanos} are updated by request threads without locking;
 * {@link #references} is written under the registry's write lock.
 */
final class EndpointState {

    private static final VarHandle IN_FLIGHT;

    static {
        try {
            IN_FLIGHT = MethodHandles.lookup().findVarHandle(EndpointState.class, "inFlight", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** No failure mark. */
    static final long NOT_FAILED = Long.MIN_VALUE;

    /**
     * An endpoint with this address, for its {@code host} and {@code port}: one reference instead of two
     * fields keeps the object small (one per address in the table).
     */
    private final Endpoint endpoint;
    /**
     * The address's port, as a field of its own: a probe of the address table compares it without reading the
     * endpoint (a cache miss per probed state in a large table). It fills the object's padding: no bytes more.
     */
    private final int port;
    private volatile int inFlight;
    volatile long failedUntilNanos = NOT_FAILED;
    /** Routes holding this address; 0 once it left the last one (it may still have requests in flight). */
    volatile int references;
    /**
     * {@code host:port}, built when first asked for (by the proxy, per request): a racy cache of an immutable
     * string, so a thread that misses it builds an equal one. Eight bytes more per address (the object grows
     * from 32 to 40): 0.9 MB measured at 100 000 routes; the text itself exists only for addresses that served.
     */
    private String address;

    EndpointState(Endpoint endpoint) {
        this.endpoint = endpoint;
        this.port = endpoint.port();
    }

    /** {@link Endpoint#address()} of this address. */
    String address() {
        String a = address;
        if (a == null) {
            a = endpoint.address();
            address = a;
        }
        return a;
    }

    String host() {
        return endpoint.host();
    }

    int port() {
        return port;
    }

    int inFlight() {
        return inFlight;
    }

    boolean tryAcquire(int maxConns) {
        if (maxConns <= 0) {
            IN_FLIGHT.getAndAdd(this, 1);
            return true;
        }
        while (true) {
            int n = inFlight;
            if (n >= maxConns) {
                return false;
            }
            if (IN_FLIGHT.compareAndSet(this, n, n + 1)) {
                return true;
            }
        }
    }

    void release() {
        // Never below zero, even if a caller releases twice: a negative count would defeat max_conns.
        while (true) {
            int n = inFlight;
            if (n <= 0 || IN_FLIGHT.compareAndSet(this, n, n - 1)) {
                return;
            }
        }
    }

    boolean atLimit(int maxConns) {
        return maxConns > 0 && inFlight >= maxConns;
    }

    boolean isFailed(long nowNanos) {
        long until = failedUntilNanos;
        return until != NOT_FAILED && nowNanos - until < 0;
    }

    /** {@code host:port}, with an IPv6 host in brackets; the same text as {@code Endpoint.address()}. */
    boolean hasAddress(String address) {
        String host = host();
        int colon = address.lastIndexOf(':');
        if (colon < 0 || !portIs(address, colon + 1)) {
            return false;
        }
        if (colon >= 2 && address.charAt(0) == '[' && address.charAt(colon - 1) == ']') {
            return address.regionMatches(1, host, 0, host.length()) && host.length() == colon - 2;
        }
        return address.regionMatches(0, host, 0, host.length()) && host.length() == colon;
    }

    private boolean portIs(String address, int from) {
        int value = 0;
        if (from >= address.length() || address.length() - from > 5) {
            return false;
        }
        for (int i = from; i < address.length(); i++) {
            int digit = address.charAt(i) - '0';
            if (digit < 0 || digit > 9) {
                return false;
            }
            value = value * 10 + digit;
        }
        return value == port();
    }

    /**
     * The hash of the address {@code host:port}. Not {@code host.hashCode() * 31 + port}: addresses on a
     * platform are cells' IPs that differ in their last characters times ports that count up from one base
     * (61000 on Diego), and {@code 31} times a host hash one character apart plus a port 31 apart is the same
     * number. With that hash the benchmark's 165 536 addresses had 44 453 distinct hashes, and adding a new
     * address read 6.3 states on average; with this one, 165 536 and 1.9.
     */
    static int hash(String host, int port) {
        return host.hashCode() * 0x9E3779B9 + port;
    }

    /**
     * The states by address, read and written only under the registry's write lock: 16 {@link Shard}s
     * chosen by hash bits, so that no slot array is a humongous object for G1 (half a region or more,
     * which takes whole regions) at 100 000 addresses.
     */
    static final class Table {
        private final Shard[] shards = new Shard[16];

        Table() {
            for (int i = 0; i < shards.length; i++) {
                shards[i] = new Shard();
            }
        }

        private Shard shard(int hash) {
            return shards[hash * 0x85EBCA6B >>> 28];
        }

        EndpointState get(String host, int port) {
            int hash = hash(host, port);
            return shard(hash).get(hash, host, port);
        }

        void add(EndpointState state) {
            int hash = hash(state.host(), state.port());
            shard(hash).add(hash, state);
        }

        void remove(EndpointState state) {
            int hash = hash(state.host(), state.port());
            shard(hash).remove(hash, state);
        }

        /** Drops every state that left its last route and has nothing in flight. */
        void removeOrphans() {
            for (Shard shard : shards) {
                shard.removeOrphans();
            }
        }
    }

    /**
     * Open addressing with backward-shift deletion keeps it small: no per-entry node, no address string. Each
     * slot's {@link #hash} sits beside it in an array of its own, so that a probe passes other addresses and a
     * deletion moves them without reading their states (a cache miss each in a large table): 4 bytes a slot,
     * 1 MB at 100 000 addresses.
     */
    private static final class Shard {
        private EndpointState[] slots = new EndpointState[16];
        private int[] hashes = new int[16];
        private int size;

        private static int index(int hash, int mask) {
            return KeyTable.spread(hash) & mask;
        }

        EndpointState get(int hash, String host, int port) {
            int mask = slots.length - 1;
            for (int i = index(hash, mask); ; i = (i + 1) & mask) {
                EndpointState s = slots[i];
                if (s == null || hashes[i] == hash && s.port() == port && s.host().equals(host)) {
                    return s;
                }
            }
        }

        void add(int hash, EndpointState state) {
            if ((size + 1) * 2 > slots.length) {
                EndpointState[] old = slots;
                int[] oldHashes = hashes;
                slots = new EndpointState[old.length * 2];
                hashes = new int[old.length * 2];
                size = 0;
                for (int i = 0; i < old.length; i++) {
                    if (old[i] != null) {
                        add(oldHashes[i], old[i]);
                    }
                }
            }
            int mask = slots.length - 1;
            int i = index(hash, mask);
            while (slots[i] != null) {
                i = (i + 1) & mask;
            }
            slots[i] = state;
            hashes[i] = hash;
            size++;
        }

        void remove(int hash, EndpointState state) {
            int mask = slots.length - 1;
            int i = index(hash, mask);
            while (slots[i] != state) {
                if (slots[i] == null) {
                    return;
                }
                i = (i + 1) & mask;
            }
            slots[i] = null;
            size--;
            // Shift later members of the probe run back so that no lookup stops early at the hole.
            for (int j = (i + 1) & mask; slots[j] != null; j = (j + 1) & mask) {
                int home = index(hashes[j], mask);
                if (((j - home) & mask) >= ((j - i) & mask)) {
                    slots[i] = slots[j];
                    hashes[i] = hashes[j];
                    slots[j] = null;
                    i = j;
                }
            }
        }

        /**
         * Rebuilds the slots from the states still in a route or with requests in flight: one pass that reads
         * the orphans' counts but never their addresses (a sweep that pruned everything rehashes nothing).
         */
        void removeOrphans() {
            EndpointState[] old = slots;
            int[] oldHashes = hashes;
            slots = new EndpointState[old.length];
            hashes = new int[old.length];
            size = 0;
            for (int i = 0; i < old.length; i++) {
                EndpointState s = old[i];
                if (s != null && (s.references > 0 || s.inFlight() > 0)) {
                    add(oldHashes[i], s);
                }
            }
        }
    }
}
