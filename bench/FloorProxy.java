import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The floor of a JVM proxy on this machine, for bench/run's {@code floor} target: plain JDK NIO, one
 * selector per thread, each client connection paired with a keep-alive backend connection of its own. It
 * does the least a proxy must: finds the end of each request head, adds {@code X-Forwarded-For}, sends the
 * head on, and passes the response back once its {@code Content-Length} bytes are in. No routing, no header
 * checks or rewriting, no request bodies, no timeouts, no logging or statistics: not a router. What the
 * router costs above this figure is what its HTTP stack and features cost; what this costs is what the JVM
 * and the kernel take for moving the bytes.
 *
 * <p>Usage: {@code java bench/FloorProxy.java LISTEN_PORT BACKEND_PORT THREADS}
 */
public final class FloorProxy {
    static final byte[] XFF = "X-Forwarded-For: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    static InetSocketAddress backend;

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        backend = new InetSocketAddress("127.0.0.1", Integer.parseInt(args[1]));
        int threads = Integer.parseInt(args[2]);
        Loop[] loops = new Loop[threads];
        for (int i = 0; i < threads; i++) {
            loops[i] = new Loop();
            new Thread(loops[i], "loop-" + i).start();
        }
        ServerSocketChannel server = ServerSocketChannel.open();
        server.bind(new InetSocketAddress("127.0.0.1", port), 1000);
        for (int n = 0; ; n++) {
            SocketChannel c = server.accept();
            loops[n % threads].add(c);
        }
    }

    static final class Loop implements Runnable {
        final Selector selector;
        final ConcurrentLinkedQueue<SocketChannel> added = new ConcurrentLinkedQueue<>();

        Loop() throws IOException {
            selector = Selector.open();
        }

        void add(SocketChannel c) {
            added.add(c);
            selector.wakeup();
        }

        public void run() {
            try {
                for (;;) {
                    selector.select();
                    SocketChannel c;
                    while ((c = added.poll()) != null) {
                        try {
                            new Pair(this, c);
                        } catch (IOException e) { // the backend refused: drop this client, keep serving
                            c.close();
                        }
                    }
                    Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
                    while (keys.hasNext()) {
                        SelectionKey k = keys.next();
                        keys.remove();
                        Side s = (Side) k.attachment();
                        try {
                            if (s.client()) {
                                s.pair().fromClient();
                            } else {
                                s.pair().fromServer();
                            }
                        } catch (IOException e) {
                            s.pair().close();
                        }
                    }
                }
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }
    }

    /** What a selection key stands for: the client's or the backend's side of a pair. */
    record Side(Pair pair, boolean client) {
    }

    static final class Pair {
        final SocketChannel client;
        final SocketChannel server;
        final ByteBuffer in = ByteBuffer.allocateDirect(16384);
        final ByteBuffer out = ByteBuffer.allocateDirect(16384);
        long expect = -1; // the response's whole length (head and body), -1 until its head is in

        Pair(Loop loop, SocketChannel client) throws IOException {
            this.client = client;
            client.configureBlocking(false);
            client.setOption(StandardSocketOptions.TCP_NODELAY, true);
            server = SocketChannel.open(backend);
            server.configureBlocking(false);
            server.setOption(StandardSocketOptions.TCP_NODELAY, true);
            client.register(loop.selector, SelectionKey.OP_READ, new Side(this, true));
            server.register(loop.selector, SelectionKey.OP_READ, new Side(this, false));
        }

        void fromClient() throws IOException {
            int n = client.read(in);
            if (n < 0) {
                close();
                return;
            }
            int end = headEnd(in, in.position());
            if (end < 0) {
                return;
            }
            // Replace the blank line with X-Forwarded-For and the blank line.
            in.position(end - 2);
            in.put(XFF);
            in.flip();
            server.write(in);
            in.clear();
        }

        void fromServer() throws IOException {
            int n = server.read(out);
            if (n < 0) {
                close();
                return;
            }
            if (expect < 0) {
                int end = headEnd(out, out.position());
                if (end < 0) {
                    return;
                }
                expect = end + contentLength(out, end);
            }
            if (out.position() < expect) {
                return;
            }
            out.flip();
            client.write(out);
            out.clear();
            expect = -1;
        }

        /** The index after the head's blank line in {@code b[0, to)}, or -1. */
        static int headEnd(ByteBuffer b, int to) {
            for (int i = 3; i < to; i++) {
                if (b.get(i) == '\n' && b.get(i - 1) == '\r' && b.get(i - 2) == '\n' && b.get(i - 3) == '\r') {
                    return i + 1;
                }
            }
            return -1;
        }

        static long contentLength(ByteBuffer b, int end) {
            // "Content-Length:" anywhere in the head, case-insensitive on the first letter only.
            for (int i = 0; i + 15 < end; i++) {
                if ((b.get(i) | 0x20) == 'c' && (b.get(i + 8) | 0x20) == 'l' && b.get(i + 14) == ':'
                        && (b.get(i + 7) == '-')) {
                    int j = i + 15;
                    while (b.get(j) == ' ') {
                        j++;
                    }
                    long v = 0;
                    while (b.get(j) >= '0' && b.get(j) <= '9') {
                        v = v * 10 + b.get(j++) - '0';
                    }
                    return v;
                }
            }
            return 0;
        }

        void close() {
            try {
                client.close();
            } catch (IOException ignored) {
            }
            try {
                server.close();
            } catch (IOException ignored) {
            }
        }
    }
}
