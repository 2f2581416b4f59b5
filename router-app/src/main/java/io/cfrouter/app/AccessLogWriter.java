package io.cfrouter.app;

import io.cfrouter.core.RequestObserver;
import io.cfrouter.core.RequestRecord;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The access log: one line per request (behaviour reference §3.8), appended to a file by a thread of its
 * own. {@link #onRequest} only enqueues: it never waits for a lock or the disk. When {@link #capacity}
 * lines are waiting, further ones are dropped and counted ({@link #droppedLines()}) rather than stall
 * traffic.
 *
 * <p>Thread-safe: {@link #onRequest} may be called from any number of threads.
 */
final class AccessLogWriter implements RequestObserver, AutoCloseable {

    private static final Logger LOGGER = LogManager.getLogger();
    private static final DateTimeFormatter TIMESTAMP =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
    /** Waiting lines are written at least this often even if no request wakes the writer. */
    private static final long IDLE_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

    private final Path file;
    private final int capacity;
    // A lock-free queue with a separate count as its bound: request threads never contend on a lock.
    private final Queue<RequestRecord> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong written = new AtomicLong();
    private final Thread thread;
    private volatile boolean writerParked;
    private volatile boolean closing;
    private BufferedWriter out;

    /**
     * Opens {@code file} for appending and starts the writer thread.
     *
     * @param capacity the most lines that may wait to be written
     */
    static AccessLogWriter open(Path file, int capacity) throws IOException {
        AccessLogWriter writer = new AccessLogWriter(file, capacity);
        writer.start();
        return writer;
    }

    /** A writer that queues but does not write until {@link #start()}. */
    AccessLogWriter(Path file, int capacity) {
        this.file = Objects.requireNonNull(file, "file");
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity: " + capacity + " (expected: >= 1)");
        }
        this.capacity = capacity;
        this.thread = new Thread(this::run, "cf-router-access-log");
        this.thread.setDaemon(true);
    }

    /** Opens the file and starts writing. */
    void start() throws IOException {
        out = new BufferedWriter(new OutputStreamWriter(Files.newOutputStream(file, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND, StandardOpenOption.WRITE), StandardCharsets.UTF_8), 64 * 1024);
        thread.start();
    }

    @Override
    public void onRequest(RequestRecord record) {
        if (closing || queued.incrementAndGet() > capacity) {
            queued.decrementAndGet();
            dropped.incrementAndGet();
            return;
        }
        queue.offer(record);
        if (writerParked) {
            LockSupport.unpark(thread);
        }
    }

    /** Lines dropped because the queue was full (or the log closed), since start. For {@code /varz}. */
    long droppedLines() {
        return dropped.get();
    }

    /** Lines written, since start. */
    long writtenLines() {
        return written.get();
    }

    /** The most lines that may wait. */
    int capacity() {
        return capacity;
    }

    private void run() {
        StringBuilder line = new StringBuilder(512);
        boolean failed = false;
        while (true) {
            RequestRecord record = queue.poll();
            if (record == null) {
                failed = flush(failed);
                if (closing && queue.isEmpty()) {
                    return;
                }
                writerParked = true;
                // Re-check after announcing the park: a producer that saw writerParked == false has
                // already enqueued, so nothing is left waiting for the idle timeout.
                if (queue.isEmpty() && !closing) {
                    LockSupport.parkNanos(this, IDLE_PARK_NANOS);
                }
                writerParked = false;
                continue;
            }
            queued.decrementAndGet();
            line.setLength(0);
            format(record, line);
            line.append('\n');
            try {
                out.append(line);
                written.incrementAndGet();
                failed = false;
            } catch (IOException e) {
                dropped.incrementAndGet();
                if (!failed) {
                    LOGGER.error("Cannot write the access log {}: {}; dropping lines until it works again", file,
                            e.toString());
                    failed = true;
                }
            }
        }
    }

    private boolean flush(boolean failed) {
        try {
            out.flush();
            return failed;
        } catch (IOException e) {
            if (!failed) {
                LOGGER.error("Cannot write the access log {}: {}", file, e.toString());
            }
            return true;
        }
    }

    /** Writes what is queued, then closes the file. Lines arriving after this are dropped. */
    @Override
    public void close() {
        closing = true;
        if (thread.isAlive()) {
            LockSupport.unpark(thread);
            try {
                thread.join(TimeUnit.SECONDS.toMillis(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (out != null) {
            try {
                out.close();
            } catch (IOException e) {
                LOGGER.warn("Closing the access log {}: {}", file, e.toString());
            }
        }
    }

    /** Appends the §3.8 line for {@code r} (without the line break). */
    static void format(RequestRecord r, StringBuilder out) {
        plain(out, r.host()).append(" - [");
        TIMESTAMP.formatTo(Instant.ofEpochMilli(r.startEpochMillis()), out);
        out.append("] \"");
        escaped(out, r.method()).append(' ');
        escaped(out, r.uri()).append(' ');
        escaped(out, r.protocol()).append("\" ").append(r.status()).append(' ');
        count(out, r.requestBytes()).append(' ');
        count(out, r.responseBytes()).append(' ');
        quoted(out, r.referer()).append(' ');
        quoted(out, r.userAgent()).append(' ');
        quoted(out, r.clientAddress()).append(' ');
        quoted(out, r.backendAddress());
        out.append(" x_forwarded_for:");
        quoted(out, r.xForwardedFor());
        out.append(" x_forwarded_proto:");
        quoted(out, r.xForwardedProto());
        out.append(" vcap_request_id:");
        quoted(out, r.requestId());
        out.append(" response_time:");
        seconds(out, r.durationNanos());
        out.append(" app_id:");
        quoted(out, r.appId());
        out.append(" app_index:");
        quoted(out, r.appIndex());
        out.append(" instance_id:");
        quoted(out, r.instanceId());
        out.append(" x_cf_routererror:");
        quoted(out, r.routerError());
    }

    private static StringBuilder plain(StringBuilder out, String value) {
        if (value == null || value.isEmpty()) {
            return out.append('-');
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            // Unquoted, so a space would split the field as well.
            if (c == ' ') {
                out.append("\\x20");
            } else {
                escape(out, c);
            }
        }
        return out;
    }

    private static StringBuilder quoted(StringBuilder out, String value) {
        out.append('"');
        escaped(out, value);
        return out.append('"');
    }

    private static StringBuilder escaped(StringBuilder out, String value) {
        if (value == null || value.isEmpty()) {
            return out.append('-');
        }
        for (int i = 0; i < value.length(); i++) {
            escape(out, value.charAt(i));
        }
        return out;
    }

    private static void escape(StringBuilder out, char c) {
        if (c == '"' || c == '\\') {
            out.append('\\').append(c);
        } else if (c < 0x20 || c == 0x7f) {
            out.append("\\x").append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 0xf, 16));
        } else {
            out.append(c);
        }
    }

    private static StringBuilder count(StringBuilder out, long n) {
        return n < 0 ? out.append('-') : out.append(n);
    }

    /** Seconds with 6 decimals, rounded to the microsecond, without String.format's cost. */
    private static void seconds(StringBuilder out, long nanos) {
        if (nanos < 0) {
            out.append('-');
            return;
        }
        long micros = (nanos + 500) / 1000;
        out.append(micros / 1_000_000).append('.');
        String fraction = Long.toString(micros % 1_000_000);
        for (int i = fraction.length(); i < 6; i++) {
            out.append('0');
        }
        out.append(fraction);
    }
}
