package io.cfrouter.core;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** One value per thread, whether the thread has a slot of its own or shares its slot's index. */
class PerThreadTest {

    private static final long WAIT_SECONDS = 30;

    private final AtomicInteger made = new AtomicInteger();
    private final PerThread<Integer> values = PerThread.withInitial(made::incrementAndGet);

    @Test
    void shouldGiveEachThreadItsOwnValueMadeOnce() throws Exception {
        Integer mine = values.get();
        assertThat(values.get()).isSameAs(mine);
        AtomicReference<Integer> other = new AtomicReference<>();
        Thread t = new Thread(() -> {
            other.set(values.get());
            assertThat(values.get()).isSameAs(other.get());
        });
        t.start();
        t.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
        assertThat(other.get()).isNotNull().isNotEqualTo(mine);
        assertThat(values.get()).isSameAs(mine);
        assertThat(made).hasValue(2);
    }

    /** More live threads than slots: every one keeps one value of its own, asked before and after the others. */
    @Test
    void shouldKeepOneValuePerThreadWhenThreadsShareSlots() throws Exception {
        int threads = 3 * PerThread.SLOTS;
        CountDownLatch allAsked = new CountDownLatch(threads);
        CountDownLatch release = new CountDownLatch(1);
        List<Integer> first = new ArrayList<>();
        List<Integer> second = new ArrayList<>();
        List<Thread> started = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            first.add(null);
            second.add(null);
            int n = i;
            Thread t = new Thread(() -> {
                first.set(n, values.get());
                allAsked.countDown();
                await(release);
                second.set(n, values.get());
            });
            started.add(t);
        }
        started.forEach(Thread::start);
        assertThat(allAsked.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
        release.countDown();
        for (Thread t : started) {
            t.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
        }
        assertThat(first).doesNotContainNull().doesNotHaveDuplicates();
        assertThat(second).isEqualTo(first);
        assertThat(made).hasValue(threads);
    }

    /**
     * A thread that found its slot held keeps the value it was given even after the holder ends; a thread that
     * comes later to the ended holder's slot gets a new value.
     */
    @Test
    void shouldNotGiveAThreadASecondValueWhenItsSlotFreesUp() throws Exception {
        CountDownLatch holderAsked = new CountDownLatch(1);
        CountDownLatch holderMayEnd = new CountDownLatch(1);
        AtomicReference<Integer> holderValue = new AtomicReference<>();
        Thread holder = new Thread(() -> {
            holderValue.set(values.get());
            holderAsked.countDown();
            await(holderMayEnd);
        });
        holder.start();
        assertThat(holderAsked.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();

        CountDownLatch sharerAsked = new CountDownLatch(1);
        CountDownLatch sharerAsksAgain = new CountDownLatch(1);
        AtomicReference<Integer> sharerFirst = new AtomicReference<>();
        AtomicReference<Integer> sharerSecond = new AtomicReference<>();
        Thread sharer = sameSlotAs(holder, () -> {
            sharerFirst.set(values.get());
            sharerAsked.countDown();
            await(sharerAsksAgain);
            sharerSecond.set(values.get());
        });
        sharer.start();
        assertThat(sharerAsked.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
        holderMayEnd.countDown();
        holder.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
        assertThat(holder.isAlive()).isFalse();
        sharerAsksAgain.countDown();
        sharer.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
        assertThat(sharerSecond.get()).isSameAs(sharerFirst.get()).isNotEqualTo(holderValue.get());

        AtomicReference<Integer> newcomer = new AtomicReference<>();
        Thread next = sameSlotAs(holder, () -> newcomer.set(values.get()));
        next.start();
        next.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
        assertThat(newcomer.get()).isNotNull().isNotIn(holderValue.get(), sharerFirst.get());
        assertThat(made).hasValue(3);
    }

    @Test
    void shouldRefuseANullInitialValue() {
        PerThread<Object> nulls = PerThread.withInitial(() -> null);
        assertThatThrownBy(nulls::get).isInstanceOf(NullPointerException.class);
    }

    /** A new thread whose id picks the same slot as {@code other}'s (ids are handed out in order). */
    private static Thread sameSlotAs(Thread other, Runnable body) {
        long slot = other.getId() % PerThread.SLOTS;
        for (int i = 0; i < 10 * PerThread.SLOTS; i++) {
            Thread t = new Thread(body);
            if (t.getId() % PerThread.SLOTS == slot) {
                return t;
            }
        }
        throw new AssertionError("no thread id in slot " + slot + " among " + 10 * PerThread.SLOTS);
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(WAIT_SECONDS, TimeUnit.SECONDS)) {
                throw new AssertionError("not released within " + WAIT_SECONDS + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
