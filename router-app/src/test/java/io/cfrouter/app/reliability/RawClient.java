package io.cfrouter.app.reliability;

import io.cfrouter.testsupport.HttpExchange;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** A client connection to the router's proxy port that keeps the socket, to see what happens after. */
final class RawClient implements AutoCloseable {

    private final Socket socket;

    RawClient(int port) {
        socket = new Socket();
        try {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            socket.setSoTimeout(30_000);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot connect to 127.0.0.1:" + port, e);
        }
    }

    RawClient write(String text) {
        return write(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    RawClient write(byte[] bytes) {
        try {
            socket.getOutputStream().write(bytes);
            socket.getOutputStream().flush();
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    HttpExchange.Response read() {
        try {
            return HttpExchange.read(socket.getInputStream());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One response, or {@code null} when the connection closed (or was reset) before any byte of one. */
    HttpExchange.Response readOrNull() {
        try {
            return HttpExchange.read(socket.getInputStream());
        } catch (IOException e) {
            return null;
        }
    }

    InputStream in() {
        try {
            return socket.getInputStream();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Whether the router closed the connection within {@code timeout}: end of stream or a reset, with no
     * further response bytes.
     */
    boolean closedWithin(Duration timeout) {
        try {
            socket.setSoTimeout((int) timeout.toMillis());
            return socket.getInputStream().read() < 0;
        } catch (SocketTimeoutException stillOpen) {
            return false;
        } catch (IOException reset) {
            return true;
        }
    }

    /** Closes with a reset (SO_LINGER 0), as a client that vanishes would. */
    void abort() {
        try {
            socket.setSoLinger(true, 0);
            socket.close();
        } catch (IOException ignored) {
            // gone anyway
        }
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // gone anyway
        }
    }
}
