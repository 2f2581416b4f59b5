package io.cfrouter.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** Free TCP ports on loopback, for servers that cannot be told to bind port 0. */
public final class FreePort {

    private FreePort() {
    }

    /** A port that was free on 127.0.0.1 a moment ago. */
    public static int find() {
        return find(1)[0];
    }

    /**
     * {@code count} distinct ports that were free on 127.0.0.1 a moment ago: each is held until all are found, as
     * two calls of {@link #find()} one after the other can both get the port the first one just let go.
     */
    public static int[] find(int count) {
        ServerSocket[] sockets = new ServerSocket[count];
        try {
            int[] ports = new int[count];
            for (int i = 0; i < count; i++) {
                sockets[i] = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                sockets[i].setReuseAddress(true);
                ports[i] = sockets[i].getLocalPort();
            }
            return ports;
        } catch (IOException e) {
            throw new UncheckedIOException("no free port on loopback", e);
        } finally {
            for (ServerSocket socket : sockets) {
                if (socket != null) {
                    try {
                        socket.close();
                    } catch (IOException e) {
                        // it was only held to keep the port from the next one
                    }
                }
            }
        }
    }
}
