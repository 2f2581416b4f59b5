package io.cfrouter.proxy;

/**
 * How {@link RouterHandler} relays plain HTTP requests (everything but upgrades and {@code CONNECT}, which
 * always take Undertow's proxy or the router's tunnels). Both keep the whole proxy contract.
 */
public enum ProxyEngine {
    /**
     * The router's pass-through HTTP/1.1 forwarder: the request head is written straight from the exchange,
     * the backend's response head parsed straight into it, bodies streamed buffer to buffer, backend
     * connections pooled per I/O thread. About 40 % less CPU and half the allocation per request than
     * {@link #UNDERTOW} (docs/performance.md).
     */
    FORWARDER,
    /** Undertow's {@code ProxyHandler} and HTTP client, with the router's {@code ProxyClient}. */
    UNDERTOW
}
