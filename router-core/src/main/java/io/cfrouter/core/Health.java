package io.cfrouter.core;

import java.util.Objects;

/**
 * The router's health, shared by the proxy's {@code User-Agent} check and the status server's
 * {@code /health}. Thread-safe; reads are a single volatile load.
 */
public final class Health {

    /** The phases of a router's life. */
    public enum State {
        /** Started, waiting for routes to arrive: not yet serving. */
        STARTING,
        /** Serving. */
        HEALTHY,
        /** Going away: load balancers should stop sending traffic. */
        DRAINING
    }

    private volatile State state = State.STARTING;

    /** The current state. */
    public State state() {
        return state;
    }

    /** Whether load balancers should send traffic here. */
    public boolean isHealthy() {
        return state == State.HEALTHY;
    }

    /** Moves to {@code state}. */
    public void set(State state) {
        this.state = Objects.requireNonNull(state, "state");
    }
}
