package io.cfrouter.status;

/**
 * Exponentially weighted moving averages of a rate over 1, 5 and 15 minutes, plus the plain rate of the
 * last interval, fed one interval's count at a time. Not thread-safe: its owner ticks it under a lock.
 */
final class RateMeter {

    private static final double[] WINDOW_SECONDS = {60, 300, 900};

    private final double intervalSeconds;
    private final double[] alpha = new double[WINDOW_SECONDS.length];
    private final double[] rate = new double[WINDOW_SECONDS.length];
    private boolean seeded;
    private double lastIntervalRate;

    RateMeter(double intervalSeconds) {
        this.intervalSeconds = intervalSeconds;
        for (int i = 0; i < alpha.length; i++) {
            alpha[i] = 1 - Math.exp(-intervalSeconds / WINDOW_SECONDS[i]);
        }
    }

    /**
     * Folds in {@code intervals} elapsed intervals, the first of which saw {@code count} events and the
     * others none (events are only counted when someone looks, so a long quiet spell arrives at once).
     */
    void tick(long count, long intervals) {
        if (intervals <= 0) {
            return;
        }
        double instant = count / intervalSeconds;
        for (int i = 0; i < rate.length; i++) {
            // The first interval seeds the average, as a fresh meter has no history to decay from.
            rate[i] = seeded ? rate[i] + alpha[i] * (instant - rate[i]) : instant;
            if (intervals > 1) {
                rate[i] *= Math.pow(1 - alpha[i], intervals - 1);
            }
        }
        seeded = true;
        lastIntervalRate = intervals == 1 ? instant : 0;
    }

    /** Events per second, averaged over 1, 5 and 15 minutes. */
    double[] rates() {
        return rate.clone();
    }

    /** Events per second over the last whole interval. */
    double lastIntervalRate() {
        return lastIntervalRate;
    }
}
