package io.cfrouter.registry;

import io.cfrouter.core.Endpoint;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Makes the endpoints the table keeps share equal values: every registration arrives as fresh strings and
 * maps from the decoder, yet most of them repeat (cell IPs, app ids, instance indexes, tag names and values,
 * whole tag maps). Each value is looked up in a small direct-mapped cache and replaced by the cached equal
 * one; a miss takes the slot. Memory stays bounded whatever arrives, and a value that never repeats costs
 * only a slot until something else takes it.
 *
 * <p>Used under the registry's write lock only, for endpoints about to be stored (not for re-registrations
 * that change nothing).
 */
final class EndpointCanonicaliser {

    private static final int STRING_SLOTS = 1 << 14;
    private static final int MAP_SLOTS = 1 << 10;

    private final String[] strings = new String[STRING_SLOTS];
    /**
     * The hash of each slot's string: a value the slot does not hold (a new app id, most of the time) is told
     * apart without reading the cached string, a cache miss or two (the object, then its bytes, as strings such
     * as UUIDs are all of one length) out of 16 384 slots of strings. 64 KB.
     */
    private final int[] stringHashes = new int[STRING_SLOTS];
    private final Object[] maps = new Object[MAP_SLOTS];
    /** The last endpoint canonicalised: a registration brings one endpoint for each of its routes. */
    private Endpoint lastIn;
    private Endpoint lastOut;

    Endpoint canonical(Endpoint e) {
        if (e == lastIn) {
            return lastOut;
        }
        String host = string(e.host());
        String appId = string(e.appId());
        String index = string(e.instanceIndex());
        Map<String, String> tags = cachedTags(e.tags());
        Endpoint out;
        if (tags == null) {
            // A tag map not seen lately: share its strings, then remember the endpoint's copy of it.
            Map<String, String> shared = new LinkedHashMap<>(e.tags().size() * 2);
            e.tags().forEach((k, v) -> shared.put(string(k), string(v)));
            out = new Endpoint(host, e.port(), appId, e.instanceId(), index, shared, e.staleThreshold(),
                    e.loadBalancing());
            maps[slot(out.tags())] = out.tags();
        } else if (host == e.host() && appId == e.appId() && index == e.instanceIndex() && tags == e.tags()) {
            out = e;
        } else {
            out = new Endpoint(host, e.port(), appId, e.instanceId(), index, tags, e.staleThreshold(),
                    e.loadBalancing());
        }
        lastIn = e;
        lastOut = out;
        return out;
    }

    String string(String s) {
        if (s.isEmpty()) {
            return "";
        }
        int hash = s.hashCode();
        int slot = KeyTable.spread(hash) & (STRING_SLOTS - 1);
        if (stringHashes[slot] == hash) {
            String cached = strings[slot];
            if (s.equals(cached)) {
                return cached;
            }
        }
        strings[slot] = s;
        stringHashes[slot] = hash;
        return s;
    }

    private static int slot(Map<String, String> tags) {
        return KeyTable.spread(tags.hashCode()) & (MAP_SLOTS - 1);
    }

    /** The cached map equal to {@code tags} (the empty map for none), or {@code null}. */
    @SuppressWarnings("unchecked")
    private Map<String, String> cachedTags(Map<String, String> tags) {
        if (tags.isEmpty()) {
            return Map.of();
        }
        Object cached = maps[slot(tags)];
        return tags.equals(cached) ? (Map<String, String>) cached : null;
    }

}
