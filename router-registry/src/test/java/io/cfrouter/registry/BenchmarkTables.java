package io.cfrouter.registry;

import io.cfrouter.core.Endpoint;
import io.cfrouter.core.RouteKey;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;

/**
 * The routes and requests the registry benchmarks and harnesses use: a mix like a foundation's, mostly
 * exact hosts, some path routes, some wildcards; every endpoint with an app id, an instance id and two
 * tags, each a string of its own as a decoder would make it.
 */
final class BenchmarkTables {

    private BenchmarkTables() {
    }

    /** The uri of route {@code i}: 6 in 10 exact hosts, 3 in 10 host plus path, 1 in 10 wildcard. */
    static String uri(int i) {
        return switch (i % 10) {
            case 0, 1, 2, 3, 4, 5 -> "app-" + i + ".apps.example.com";
            case 6, 7, 8 -> "api-" + (i / 100) + ".example.com/v" + (i % 7) + "/svc-" + i;
            default -> "*.tenant-" + i + ".example.com";
        };
    }

    /** A request {@code {host, path}} that hits route {@code i}, shaped as a client sends it. */
    static String[] request(int i) {
        return switch (i % 10) {
            case 0, 1, 2, 3, 4, 5 -> new String[] {"App-" + i + ".apps.example.com:443", "/index.html?q=1"};
            case 6, 7, 8 -> new String[] {"api-" + (i / 100) + ".example.com", "/v" + (i % 7) + "/svc-" + i
                    + "/orders/42"};
            default -> new String[] {"www.eu.tenant-" + i + ".example.com", "/"};
        };
    }

    /**
     * A fresh endpoint for route {@code i}: on one of 1 000 cells (IPs), its own port there, its own app id
     * and instance id (UUIDs), instance index 0-3, and the tags {@code component: route-emitter} and
     * {@code process_type: web}, or, if {@code uniqueTag}, {@code app_name: app-<i>} instead of the latter.
     */
    static Endpoint endpoint(int i, boolean uniqueTag) {
        String appId = new UUID(0x5eedL * i, i).toString();
        String instanceId = new UUID(i, 0x5eedL * i).toString();
        Map<String, String> tags = uniqueTag
                ? Map.of(new String("component"), new String("route-emitter"), new String("app_name"), "app-" + i)
                : Map.of(new String("component"), new String("route-emitter"), new String("process_type"),
                new String("web"));
        return new Endpoint("10.0." + (i % 1000 / 250) + "." + (i % 250), 61000 + (i / 1000) % 4000, appId,
                instanceId, Integer.toString(i % 4), tags, Duration.ZERO, null);
    }

    static Endpoint endpoint(int i) {
        return endpoint(i, false);
    }

    static RouteKey key(int i) {
        return RouteKey.parse(uri(i));
    }
}
