package io.cfrouter.testsupport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * A minimal HTTP/1.1 client over a raw socket, for tests that must control every byte (the {@code Host}
 * header, malformed requests) and see every byte of the answer. One request per connection.
 */
public final class HttpExchange {

    /** A parsed response. */
    public record Response(String statusLine, int status, List<String[]> headers, byte[] body) {

        /** The first value of a header (case-insensitive name). */
        public Optional<String> header(String name) {
            return headers.stream().filter(h -> h[0].equalsIgnoreCase(name)).map(h -> h[1]).findFirst();
        }

        /** Every value of a header, in order. */
        public List<String> headers(String name) {
            return headers.stream().filter(h -> h[0].equalsIgnoreCase(name)).map(h -> h[1]).toList();
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder(statusLine);
            headers.forEach(h -> sb.append(" | ").append(h[0]).append(": ").append(h[1]));
            String text = bodyText();
            return sb.append(" | body: ").append(text.length() > 200 ? text.substring(0, 200) + "..." : text).toString();
        }

        /** The body as UTF-8. */
        public String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    private HttpExchange() {
    }

    /** {@code GET path} with the given {@code Host}, to 127.0.0.1:port. */
    public static Response get(int port, String host, String path, String... extraHeaderLines) {
        StringBuilder request = new StringBuilder("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n");
        for (String line : extraHeaderLines) {
            request.append(line).append("\r\n");
        }
        request.append("Connection: close\r\n\r\n");
        return send(port, request.toString().getBytes(StandardCharsets.ISO_8859_1));
    }

    /** Sends raw bytes and reads one response (the connection is closed afterwards). */
    public static Response send(int port, byte[] rawRequest) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            socket.setSoTimeout(30_000);
            OutputStream out = socket.getOutputStream();
            out.write(rawRequest);
            out.flush();
            return read(socket.getInputStream());
        } catch (IOException e) {
            throw new UncheckedIOException("HTTP exchange with 127.0.0.1:" + port + " failed", e);
        }
    }

    /** Reads one response from a stream. */
    public static Response read(InputStream in) throws IOException {
        String statusLine = line(in);
        if (statusLine == null) {
            throw new IOException("connection closed before a response");
        }
        String[] parts = statusLine.split(" ", 3);
        int status = Integer.parseInt(parts[1]);
        List<String[]> headers = new ArrayList<>();
        for (String line = line(in); line != null && !line.isEmpty(); line = line(in)) {
            int colon = line.indexOf(':');
            headers.add(new String[] {line.substring(0, colon).trim(), line.substring(colon + 1).trim()});
        }
        Response head = new Response(statusLine, status, headers, new byte[0]);
        byte[] body;
        Optional<String> te = head.header("Transfer-Encoding");
        Optional<String> cl = head.header("Content-Length");
        if (status == 204 || status == 304 || status / 100 == 1) {
            body = new byte[0];
        } else if (te.isPresent() && te.get().toLowerCase(Locale.ROOT).contains("chunked")) {
            body = chunked(in);
        } else if (cl.isPresent()) {
            body = in.readNBytes(Integer.parseInt(cl.get()));
        } else {
            body = in.readAllBytes();
        }
        return new Response(statusLine, status, headers, body);
    }

    private static byte[] chunked(InputStream in) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
            String sizeLine = line(in);
            if (sizeLine == null) {
                throw new IOException("truncated chunked body");
            }
            int semi = sizeLine.indexOf(';');
            int size = Integer.parseInt((semi < 0 ? sizeLine : sizeLine.substring(0, semi)).trim(), 16);
            if (size == 0) {
                for (String l = line(in); l != null && !l.isEmpty(); l = line(in)) {
                    // trailers
                }
                return body.toByteArray();
            }
            body.write(in.readNBytes(size));
            line(in);
        }
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != -1) {
            if (b == '\n') {
                byte[] bytes = buf.toByteArray();
                int len = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                return new String(bytes, 0, len, StandardCharsets.ISO_8859_1);
            }
            buf.write(b);
        }
        return buf.size() == 0 ? null : buf.toString(StandardCharsets.ISO_8859_1);
    }
}
