package io.cfrouter.proxy;

import io.cfrouter.core.PerThread;
import io.undertow.util.WorkerUtils;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.xnio.XnioExecutor;
import org.xnio.XnioIoThread;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Timeouts that all have the same length ({@code endpoint_timeout}, {@code endpoint_dial_timeout}), kept
 * per I/O thread in one list with one XNIO timer.
 *
 * <p>XNIO's own timers sit in a {@code TreeSet} per I/O thread: one insert and one removal per request and
 * per attempt were about 5 % of the router's CPU. Here, since every timeout has the same length and an
 * I/O thread's clock only moves forward, the order in which timeouts start on a thread is the order in which
 * they fall due: a doubly linked list, appended to at the tail and unlinked from anywhere, stays sorted.
 * Starting and cancelling a timeout are a few field writes. One timer per thread fires at the head's due
 * time, expires every entry that is due, and is set again for the new head; a cancelled head is simply not
 * there when it fires (it then fires once more, at the new head's due time, at most once per timeout
 * length under steady load).
 *
 * <p>Entries are started and cancelled on their exchange's I/O thread; one started on another thread (an
 * embedder's handler that dispatched to a worker) falls back to an XNIO timer of its own.
 */
final class Deadlines {

    private static final Logger LOGGER = LogManager.getLogger();

    private final long timeoutNanos;
    private final PerThread<Queue> queues = PerThread.withInitial(() -> new Queue((XnioIoThread) Thread.currentThread()));

    Deadlines(Duration timeout) {
        this.timeoutNanos = timeout.toNanos();
    }

    /** Starts {@code entry}'s timeout, counted from now; {@link Entry#expire()} runs on {@code thread} when due. */
    void start(Entry entry, XnioIoThread thread) {
        if (Thread.currentThread() != thread) {
            entry.key = WorkerUtils.executeAfter(thread, entry, timeoutNanos, TimeUnit.NANOSECONDS);
            return;
        }
        queues.get().add(entry, System.nanoTime() + timeoutNanos);
    }

    /** A timed operation; {@link #cancel()} it when it is done, on the thread that started it. */
    abstract static class Entry implements Runnable {
        private Entry prev;
        private Entry next;
        private long due;
        private Queue queue;
        private XnioExecutor.Key key;

        /** The timeout passed; runs on the I/O thread, after the entry left its list. */
        abstract void expire();

        /** Stops the timeout if it is running; harmless otherwise. */
        final void cancel() {
            Queue q = queue;
            if (q != null) {
                q.unlink(this);
            } else if (key != null) {
                key.remove();
                key = null;
            }
        }

        /** Only for the fallback timer. */
        @Override
        public final void run() {
            key = null;
            expire();
        }
    }

    /** One I/O thread's entries, sorted by due time. Confined to that thread. */
    private static final class Queue implements Runnable {
        private final XnioIoThread thread;
        private Entry head;
        private Entry tail;
        private boolean timerSet;

        Queue(XnioIoThread thread) {
            this.thread = thread;
        }

        void add(Entry e, long due) {
            e.due = due;
            e.queue = this;
            e.prev = tail;
            e.next = null;
            if (tail == null) {
                head = e;
            } else {
                tail.next = e;
            }
            tail = e;
            if (!timerSet) {
                setTimer(due, System.nanoTime());
            }
        }

        void unlink(Entry e) {
            if (e.prev == null) {
                head = e.next;
            } else {
                e.prev.next = e.next;
            }
            if (e.next == null) {
                tail = e.prev;
            } else {
                e.next.prev = e.prev;
            }
            e.prev = null;
            e.next = null;
            e.queue = null;
        }

        private void setTimer(long due, long now) {
            timerSet = true;
            // XNIO's timers have millisecond resolution: round up, so an entry is never expired early.
            long millis = Math.max(0, (due - now + 999_999) / 1_000_000);
            thread.executeAfter(this, millis, TimeUnit.MILLISECONDS);
        }

        /** The timer: expire what is due, then wait for the new head. */
        @Override
        public void run() {
            timerSet = false;
            long now = System.nanoTime();
            Entry e;
            while ((e = head) != null && e.due - now <= 0) {
                unlink(e);
                try {
                    e.expire();
                } catch (RuntimeException ex) {
                    LOGGER.warn("Timeout handling failed", ex);
                }
            }
            if (head != null && !timerSet) {
                setTimer(head.due, now);
            }
        }
    }
}
