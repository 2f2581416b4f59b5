package io.cfrouter.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A plain TCP server on a free loopback port that hands every accepted socket to a handler on its own
 * daemon thread: the base of test backends that must misbehave byte by byte.
 */
public final class RawSocketServer implements AutoCloseable {

    private final ServerSocket socket;
    private final AtomicInteger accepted = new AtomicInteger();

    private RawSocketServer(int backlog, Consumer<Socket> handler) throws IOException {
        socket = new ServerSocket(0, backlog, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(() -> {
            while (!socket.isClosed()) {
                try {
                    Socket s = socket.accept();
                    accepted.incrementAndGet();
                    Thread connection = new Thread(() -> handler.accept(s), "raw-server-" + port());
                    connection.setDaemon(true);
                    connection.start();
                } catch (IOException closed) {
                    return;
                }
            }
        }, "raw-server-accept-" + port());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** Starts accepting; {@code handler} owns (and closes) each socket. */
    public static RawSocketServer start(Consumer<Socket> handler) {
        return start(50, handler);
    }

    /**
     * Starts accepting with room for {@code backlog} connections not yet accepted (for bursts of many at
     * once); {@code handler} owns (and closes) each socket.
     */
    public static RawSocketServer start(int backlog, Consumer<Socket> handler) {
        try {
            return new RawSocketServer(backlog, handler);
        } catch (IOException e) {
            throw new UncheckedIOException("no loopback server socket", e);
        }
    }

    /** The port it listens on. */
    public int port() {
        return socket.getLocalPort();
    }

    /** Connections accepted so far. */
    public int accepted() {
        return accepted.get();
    }

    /** Stops accepting; connections already handed out go on until their handlers end. */
    @Override
    public void close() throws IOException {
        socket.close();
    }
}
