package io.cfrouter.proxy;

import io.cfrouter.testsupport.Await;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.Xnio;
import org.xnio.XnioIoThread;
import org.xnio.XnioWorker;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/** An XNIO worker's I/O thread, no sockets: the timeouts' list and its one timer. */
class DeadlinesTest {

    private final XnioWorker worker;
    private final XnioIoThread thread;
    private final List<String> expired = new CopyOnWriteArrayList<>();

    DeadlinesTest() throws Exception {
        worker = Xnio.getInstance().createWorker(OptionMap.create(Options.WORKER_IO_THREADS, 1));
        thread = worker.getIoThread(0);
    }

    @AfterEach
    void stop() {
        worker.shutdownNow();
    }

    private final class Named extends Deadlines.Entry {
        final String name;
        final long startNanos = System.nanoTime();
        volatile long expiredAfterNanos;

        Named(String name) {
            this.name = name;
        }

        @Override
        void expire() {
            expiredAfterNanos = System.nanoTime() - startNanos;
            expired.add(name);
        }
    }

    private void onThread(Runnable task) {
        thread.execute(task);
    }

    @Test
    void shouldExpireEntriesInStartOrderAndNeverACancelledOne() {
        Deadlines deadlines = new Deadlines(Duration.ofMillis(50));
        Named a = new Named("a");
        Named b = new Named("b");
        Named c = new Named("c");
        onThread(() -> {
            deadlines.start(a, thread);
            deadlines.start(b, thread);
            deadlines.start(c, thread);
            b.cancel();
        });

        Await.until(Duration.ofSeconds(10), "a and c expired", () -> expired.size() >= 2);
        assertThat(expired).containsExactly("a", "c");
        assertThat(a.expiredAfterNanos).isGreaterThanOrEqualTo(Duration.ofMillis(50).toNanos());
    }

    @Test
    void shouldExpireEntriesStartedAfterTheListEmptied() {
        Deadlines deadlines = new Deadlines(Duration.ofMillis(20));
        Named first = new Named("first");
        onThread(() -> {
            deadlines.start(first, thread);
            first.cancel();
        });
        Named second = new Named("second");
        onThread(() -> deadlines.start(second, thread));

        Await.until(Duration.ofSeconds(10), "second expired", () -> !expired.isEmpty());
        assertThat(expired).containsExactly("second");
        assertThat(second.expiredAfterNanos).isGreaterThanOrEqualTo(Duration.ofMillis(20).toNanos());
    }

    @Test
    void shouldUseATimerOfItsOwnForAnEntryStartedOffTheIoThread() {
        Deadlines deadlines = new Deadlines(Duration.ofMillis(20));
        Named kept = new Named("kept");
        Named cancelled = new Named("cancelled");
        deadlines.start(cancelled, thread);
        cancelled.cancel();
        deadlines.start(kept, thread);

        Await.until(Duration.ofSeconds(10), "kept expired", () -> !expired.isEmpty());
        assertThat(expired).containsExactly("kept");
    }
}
