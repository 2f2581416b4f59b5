package io.cfrouter.proxy;

import io.undertow.util.Headers;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * §3.1: 1 GiB up and 1 GiB down through the router, generated on the fly and never stored, with the test
 * JVM's heap capped (failsafe argLine) well below the body size: bodies stream, they are not buffered.
 */
class StreamingIT {

    static final long SIZE = 1L << 30;
    private static final int BLOCK = 64 * 1024;
    private static final byte[] PATTERN = new byte[BLOCK];

    static {
        new Random(42).nextBytes(PATTERN);
    }

    private ProxyFixture router;
    private HeapWatch heap;

    @BeforeEach
    void start() {
        router = new ProxyFixture();
        int backend = router.backend(exchange -> {
            if (exchange.isInIoThread()) {
                exchange.dispatch(exchange1 -> serve(exchange1));
                return;
            }
            serve(exchange);
        });
        router.register("bulk.example.com", backend);
        heap = new HeapWatch();
    }

    private static void serve(io.undertow.server.HttpServerExchange exchange) throws IOException {
        exchange.startBlocking();
        if (exchange.getRequestPath().equals("/download")) {
            exchange.getResponseHeaders().put(Headers.CONTENT_LENGTH, SIZE);
            try (OutputStream out = exchange.getOutputStream()) {
                byte[] block = new byte[BLOCK];
                for (long i = 0; i < SIZE / BLOCK; i++) {
                    out.write(block(i, block));
                }
            }
        } else {
            CRC32 crc = new CRC32();
            long n = 0;
            byte[] buf = new byte[BLOCK];
            try (InputStream in = exchange.getInputStream()) {
                for (int r = in.read(buf); r >= 0; r = in.read(buf)) {
                    crc.update(buf, 0, r);
                    n += r;
                }
            }
            exchange.getResponseSender().send(n + " " + crc.getValue());
        }
    }

    /** Block {@code i} of the body: the pattern with its index in the first bytes, so order matters. */
    static byte[] block(long i, byte[] into) {
        System.arraycopy(PATTERN, 0, into, 0, BLOCK);
        ByteBuffer.wrap(into).putLong(i);
        return into;
    }

    static long expectedCrc() {
        CRC32 crc = new CRC32();
        byte[] block = new byte[BLOCK];
        for (long i = 0; i < SIZE / BLOCK; i++) {
            crc.update(block(i, block));
        }
        return crc.getValue();
    }

    @AfterEach
    void stop() throws Exception {
        heap.close();
        router.close();
    }

    @Test
    void shouldStreamAGibibyteUpload() throws Exception {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", router.port));
            OutputStream out = s.getOutputStream();
            out.write(("POST /upload HTTP/1.1\r\nHost: bulk.example.com\r\nContent-Length: " + SIZE
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            byte[] block = new byte[BLOCK];
            for (long i = 0; i < SIZE / BLOCK; i++) {
                out.write(block(i, block));
            }
            out.flush();
            String response = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(response).startsWith("HTTP/1.1 200").endsWith("\r\n\r\n" + SIZE + " " + expectedCrc());
        }
        assertThat(router.record("/upload").requestBytes()).isEqualTo(SIZE);
        System.out.printf("1 GiB upload: peak heap used %d MiB (max %d MiB)%n", heap.peakMiB(), heap.maxMiB());
        assertThat(heap.peakMiB()).isLessThan(SIZE >> 22); // a quarter of the body
    }

    @Test
    void shouldStreamAGibibyteDownload() throws Exception {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", router.port));
            s.getOutputStream().write("GET /download HTTP/1.1\r\nHost: bulk.example.com\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = new java.io.BufferedInputStream(s.getInputStream(), BLOCK);
            String head = RawBackend.readHead(in);
            assertThat(head).startsWith("HTTP/1.1 200").contains("Content-Length: " + SIZE);
            CRC32 crc = new CRC32();
            long n = 0;
            byte[] buf = new byte[BLOCK];
            for (int r = in.read(buf); r >= 0; r = in.read(buf)) {
                crc.update(buf, 0, r);
                n += r;
            }
            assertThat(n).isEqualTo(SIZE);
            assertThat(crc.getValue()).isEqualTo(expectedCrc());
        }
        assertThat(router.record("/download").responseBytes()).isEqualTo(SIZE);
        System.out.printf("1 GiB download: peak heap used %d MiB (max %d MiB)%n", heap.peakMiB(), heap.maxMiB());
        assertThat(heap.peakMiB()).isLessThan(SIZE >> 22);
    }

    /** Samples the used heap every 20 ms and keeps the peak. */
    static final class HeapWatch implements AutoCloseable {
        private final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        private final AtomicLong peak = new AtomicLong();
        private final Thread thread;
        private volatile boolean running = true;

        HeapWatch() {
            thread = new Thread(() -> {
                while (running) {
                    peak.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max);
                    java.util.concurrent.locks.LockSupport.parkNanos(20_000_000L);
                }
            }, "heap-watch");
            thread.setDaemon(true);
            thread.start();
        }

        long peakMiB() {
            return peak.get() >> 20;
        }

        long maxMiB() {
            return memory.getHeapMemoryUsage().getMax() >> 20;
        }

        @Override
        public void close() {
            running = false;
        }
    }
}
