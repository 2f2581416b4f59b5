package io.cfrouter.registry;

/**
 * Told about changes to the routing table.
 *
 * <p>Called on the thread that made the change (a {@code register}, {@code unregister} or
 * {@code pruneStale} caller), after the change is visible to lookups and with no registry lock held, so it
 * may call back into the registry. Two writers on different threads may deliver their events
 * concurrently; events from one writer call arrive in order. It must be quick (it delays its writer) and
 * should not throw: a throwing listener is logged at warn and the other listeners are still told.
 */
@FunctionalInterface
public interface RegistryListener {

    /** One change. */
    void onChange(RegistryEvent event);
}
