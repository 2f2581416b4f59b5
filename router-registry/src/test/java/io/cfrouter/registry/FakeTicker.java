package io.cfrouter.registry;

import io.cfrouter.core.Ticker;

import java.time.Duration;

/** A ticker that moves only when told to. */
final class FakeTicker implements Ticker {

    private volatile long now = 1_000_000_000L;

    @Override
    public long read() {
        return now;
    }

    void advance(Duration by) {
        now += by.toNanos();
    }
}
