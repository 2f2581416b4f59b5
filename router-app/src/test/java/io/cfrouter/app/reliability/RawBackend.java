package io.cfrouter.app.reliability;

import io.cfrouter.testsupport.RawSocketServer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A backend on a raw server socket, for faults an HTTP server would hide: it answers, hangs, or dies
 * exactly as its {@link Script} says, and records every byte it receives.
 */
final class RawBackend implements AutoCloseable {

    /** What the backend does with one accepted connection (runs on its own thread). */
    @FunctionalInterface
    interface Script {
        void serve(Socket socket, InputStream in, OutputStream out, RawBackend backend) throws IOException;
    }

    /** Answers every request with {@code 200 ok}, keeping the connection open, until the peer closes. */
    static final Script KEEP_ALIVE_OK = (socket, in, out, backend) -> {
        while (backend.readRequest(in) != null) {
            out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }
    };

    private final RawSocketServer server;
    private final Script script;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final AtomicInteger requests = new AtomicInteger();
    private final ByteArrayOutputStream received = new ByteArrayOutputStream();

    private RawBackend(Script script) {
        this.script = script;
        this.server = RawSocketServer.start(4096, this::serve);
    }

    static RawBackend start(Script script) {
        return new RawBackend(script);
    }

    int port() {
        return server.port();
    }

    int accepted() {
        return server.accepted();
    }

    /** Request heads read so far. */
    int requests() {
        return requests.get();
    }

    /** Every byte received so far, as ISO-8859-1. */
    String received() {
        synchronized (received) {
            return received.toString(StandardCharsets.ISO_8859_1);
        }
    }

    /** Connections currently open. */
    int openConnections() {
        return (int) sockets.stream().filter(s -> !s.isClosed()).count();
    }

    private void serve(Socket socket) {
        sockets.add(socket);
        try (socket) {
            script.serve(socket, socket.getInputStream(), socket.getOutputStream(), this);
        } catch (IOException | RuntimeException gone) {
            // The peer went away or the test killed the connection: nothing to do.
        } finally {
            sockets.remove(socket);
        }
    }

    /**
     * Reads one request (head, and a body framed by Content-Length or chunked) and records it; returns
     * the head, or {@code null} at end of stream.
     */
    String readRequest(InputStream in) throws IOException {
        String head = readHead(in);
        if (head == null) {
            return null;
        }
        requests.incrementAndGet();
        String lower = head.toLowerCase(Locale.ROOT);
        int cl = lower.indexOf("\ncontent-length:");
        if (lower.contains("\ntransfer-encoding:") && lower.contains("chunked")) {
            readChunked(in);
        } else if (cl >= 0) {
            int end = lower.indexOf('\r', cl + 1);
            long length = Long.parseLong(lower.substring(cl + "\ncontent-length:".length(), end).trim());
            for (long i = 0; i < length; i++) {
                if (read(in) < 0) {
                    return head;
                }
            }
        }
        return head;
    }

    /** Reads up to the blank line ending a request head; {@code null} at end of stream. */
    String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        int b;
        while ((b = read(in)) >= 0) {
            head.append((char) b);
            if (head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n")) {
                return head.toString();
            }
        }
        return null;
    }

    private void readChunked(InputStream in) throws IOException {
        while (true) {
            StringBuilder line = new StringBuilder();
            int b;
            while ((b = read(in)) >= 0 && b != '\n') {
                line.append((char) b);
            }
            if (b < 0) {
                return;
            }
            String size = line.toString().trim();
            int semi = size.indexOf(';');
            long n = Long.parseLong(semi < 0 ? size : size.substring(0, semi), 16);
            if (n == 0) {
                while (readHeadLine(in) > 0) {
                    // trailers
                }
                return;
            }
            for (long i = 0; i < n + 2; i++) {
                if (read(in) < 0) {
                    return;
                }
            }
        }
    }

    private int readHeadLine(InputStream in) throws IOException {
        int length = 0;
        int b;
        while ((b = read(in)) >= 0 && b != '\n') {
            if (b != '\r') {
                length++;
            }
        }
        return b < 0 ? -1 : length;
    }

    private int read(InputStream in) throws IOException {
        int b = in.read();
        if (b >= 0) {
            synchronized (received) {
                received.write(b);
            }
        }
        return b;
    }

    /** Resets every open connection (SO_LINGER 0), as a crashed process would. */
    void killConnections() {
        for (Socket s : sockets) {
            try {
                s.setSoLinger(true, 0);
                s.close();
            } catch (IOException ignored) {
                // already gone
            }
        }
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        killConnections();
    }
}
