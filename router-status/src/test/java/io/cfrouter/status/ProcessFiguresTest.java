package io.cfrouter.status;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class ProcessFiguresTest {

    private final FakeTicker ticker = new FakeTicker();
    private final AtomicLong cpuNanos = new AtomicLong();

    @Test
    void shouldReadResidentMemoryFromProcStatus(@TempDir Path dir) throws IOException {
        Path status = dir.resolve("status");
        Files.writeString(status, "Name:\tjava\nVmPeak:\t 999 kB\nVmRSS:\t  123456 kB\nThreads:\t42\n");
        assertThat(new ProcessFigures(ticker, cpuNanos::get, status).residentKb()).isEqualTo(123456);
    }

    @Test
    void shouldFallBackToTheJvmsCommittedMemoryWithoutProcStatus(@TempDir Path dir) {
        long kb = new ProcessFigures(ticker, cpuNanos::get, dir.resolve("missing")).residentKb();
        assertThat(kb).isPositive();
    }

    @Test
    void shouldReportCpuAsPercentOfOneCoreSinceThePreviousReading(@TempDir Path dir) {
        ProcessFigures figures = new ProcessFigures(ticker, cpuNanos::get, dir.resolve("missing"));
        ticker.advance(Duration.ofSeconds(10));
        cpuNanos.addAndGet(Duration.ofSeconds(15).toNanos());
        assertThat(figures.cpuPercent()).isCloseTo(150.0, within(1e-9));

        ticker.advance(Duration.ofSeconds(10));
        cpuNanos.addAndGet(Duration.ofSeconds(1).toNanos());
        assertThat(figures.cpuPercent()).isCloseTo(10.0, within(1e-9));
    }

    @Test
    void shouldRepeatTheLastFigureWhenReadAgainTooSoon(@TempDir Path dir) {
        ProcessFigures figures = new ProcessFigures(ticker, cpuNanos::get, dir.resolve("missing"));
        ticker.advance(Duration.ofSeconds(2));
        cpuNanos.addAndGet(Duration.ofSeconds(1).toNanos());
        assertThat(figures.cpuPercent()).isCloseTo(50.0, within(1e-9));
        ticker.advance(Duration.ofMillis(10));
        cpuNanos.addAndGet(Duration.ofMillis(10).toNanos());
        assertThat(figures.cpuPercent()).isCloseTo(50.0, within(1e-9));
    }

    @Test
    void shouldMeasureThisProcessResidentMemory() {
        ProcessFigures real = new ProcessFigures(System::nanoTime);
        assertThat(real.residentKb()).isPositive();
    }
}
