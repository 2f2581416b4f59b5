package io.cfrouter.status;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class RateMeterTest {

    @Test
    void shouldReportASteadyRateInEveryWindow() {
        RateMeter meter = new RateMeter(5);
        for (int i = 0; i < 12 * 60; i++) {
            meter.tick(50, 1);
        }
        assertThat(meter.rates()).containsExactly(new double[] {10, 10, 10}, within(0.01));
        assertThat(meter.lastIntervalRate()).isEqualTo(10);
    }

    @Test
    void shouldLetTheShortWindowFallFasterThanTheLongOnesWhenTrafficStops() {
        RateMeter meter = new RateMeter(5);
        for (int i = 0; i < 12 * 60; i++) {
            meter.tick(50, 1);
        }
        meter.tick(0, 12); // a quiet minute
        double[] rates = meter.rates();
        assertThat(rates[0]).isCloseTo(10 / Math.E, within(0.01));
        assertThat(rates[0]).isLessThan(rates[1]);
        assertThat(rates[1]).isLessThan(rates[2]);
        assertThat(meter.lastIntervalRate()).isZero();
    }

    @Test
    void shouldDecayAQuietSpellAsIfEachIntervalHadBeenTickedAlone() {
        RateMeter once = new RateMeter(5);
        RateMeter stepwise = new RateMeter(5);
        once.tick(100, 1);
        stepwise.tick(100, 1);
        once.tick(30, 7);
        stepwise.tick(30, 1);
        for (int i = 0; i < 6; i++) {
            stepwise.tick(0, 1);
        }
        assertThat(once.rates()).containsExactly(stepwise.rates(), within(1e-9));
    }
}
