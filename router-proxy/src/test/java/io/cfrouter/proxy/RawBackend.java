package io.cfrouter.proxy;

import io.cfrouter.testsupport.RawSocketServer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A backend on a raw socket that answers each (bodiless) request with its own head, byte for byte, as the
 * body; keeps connections alive. Shows exactly what the router sent.
 */
final class RawBackend implements AutoCloseable {

    final BlockingQueue<String> heads = new LinkedBlockingQueue<>();
    private final RawSocketServer server = RawSocketServer.start(this::serve);

    int port() {
        return server.port();
    }

    /** The next request head the backend received, waiting up to 10 s; fails the test when none came. */
    String nextHead() throws InterruptedException {
        String head = heads.poll(10, TimeUnit.SECONDS);
        assertThat(head).as("request head at the backend").isNotNull();
        return head;
    }

    /** Connections accepted so far. */
    int connections() {
        return server.accepted();
    }

    private void serve(Socket s) {
        try (s) {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            while (true) {
                String head = readHead(in);
                if (head == null) {
                    return;
                }
                heads.add(head);
                byte[] body = head.getBytes(StandardCharsets.ISO_8859_1);
                out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + body.length
                        + "\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nX-Hop: secret\r\n"
                        + extraResponseLines(head) + "\r\n")
                        .getBytes(StandardCharsets.ISO_8859_1));
                out.write(body);
                out.flush();
            }
        } catch (IOException e) {
            // connection gone
        }
    }

    /** The values of the request's {@code X-Test-Response} lines, each sent back as a response header line. */
    private static String extraResponseLines(String head) {
        StringBuilder lines = new StringBuilder();
        for (String line : head.split("\r\n")) {
            if (line.regionMatches(true, 0, "X-Test-Response:", 0, 16)) {
                lines.append(line.substring(16).trim()).append("\r\n");
            }
        }
        return lines.toString();
    }

    static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int matched = 0;
        int b;
        while ((b = in.read()) != -1) {
            buf.write(b);
            matched = (b == '\r' && (matched == 0 || matched == 2)) || (b == '\n' && (matched == 1 || matched == 3))
                    ? matched + 1 : (b == '\r' ? 1 : 0);
            if (matched == 4) {
                return buf.toString(StandardCharsets.ISO_8859_1);
            }
        }
        return null;
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
