package io.cfrouter.registry;

/**
 * Told about changes to the routing table. Called on the thread that made the change, after the change
 * is visible and with no lock held; it must be quick and must not throw (a throwing listener is logged
 * and the others are still told).
 */
@FunctionalInterface
public interface RegistryListener {

    /** One change. */
    void onChange(RegistryEvent event);
}
