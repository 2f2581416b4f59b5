package io.cfrouter.app;

import io.cfrouter.core.Endpoint;
import io.cfrouter.registry.RegistryEvent;
import io.cfrouter.registry.RegistryListener;
import org.apache.logging.log4j.CloseableThreadContext;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Logs changes to the routing table: endpoints registered, unregistered and pruned at info, the rest at
 * debug. The route and endpoint go into the message and, as separate fields, into the thread context
 * (so the JSON log carries {@code route}, {@code endpoint}, {@code app_id}, {@code instance_id}).
 */
final class RegistryEventLog implements RegistryListener {

    private static final Logger LOGGER = LogManager.getLogger();

    @Override
    public void onChange(RegistryEvent event) {
        Level level = switch (event.type()) {
            case ENDPOINT_ADDED, ENDPOINT_REMOVED, ENDPOINT_PRUNED -> Level.INFO;
            case ROUTE_ADDED, ROUTE_REMOVED, ENDPOINT_UPDATED -> Level.DEBUG;
        };
        if (!LOGGER.isEnabled(level)) {
            return;
        }
        String what = switch (event.type()) {
            case ROUTE_ADDED -> "Route added";
            case ROUTE_REMOVED -> "Route removed";
            case ENDPOINT_ADDED -> "Endpoint registered";
            case ENDPOINT_UPDATED -> "Endpoint updated";
            case ENDPOINT_REMOVED -> "Endpoint unregistered";
            case ENDPOINT_PRUNED -> "Endpoint pruned (stale)";
        };
        String route = event.route().key();
        try (CloseableThreadContext.Instance context = CloseableThreadContext.put("route", route)) {
            Endpoint endpoint = event.endpoint();
            if (endpoint == null) {
                LOGGER.log(level, "{}: {}", what, route);
                return;
            }
            context.put("endpoint", endpoint.address());
            putIfSet(context, "app_id", endpoint.appId());
            putIfSet(context, "instance_id", endpoint.instanceId());
            putIfSet(context, "component", endpoint.component());
            LOGGER.log(level, "{}: {} -> {}{}", what, route, endpoint.address(),
                    endpoint.appId().isEmpty() ? "" : " (app " + endpoint.appId() + ")");
        }
    }

    private static void putIfSet(CloseableThreadContext.Instance context, String key, String value) {
        if (!value.isEmpty()) {
            context.put(key, value);
        }
    }
}
