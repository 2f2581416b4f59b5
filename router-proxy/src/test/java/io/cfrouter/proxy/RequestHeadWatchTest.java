package io.cfrouter.proxy;

import org.junit.jupiter.api.Test;
import org.xnio.conduits.StreamSourceConduit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The byte-level scan of {@link RequestHeadWatch}, head by head, with the head cut into reads at every
 * position: what it lets through (an empty Host line added where due, nothing else changed) and what it
 * finds. No sockets: the connection is a list of reads.
 */
class RequestHeadWatchTest {

    private static final String BODY = "\r\n Folded-looking: body\r\n\tline\r\n\r\nGET / HTTP/1.1\r\n\r\n";

    private record Case(String head, boolean hostAdded, boolean folded) {
    }

    private static final List<Case> CASES = List.of(
            new Case("GET /a HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\r\n", false, false),
            new Case("GET /a HTTP/1.1\r\nhOsT: h\r\n\r\n", false, false),
            new Case("GET / HTTP/1.1\r\n\r\n", true, false),
            new Case("POST /no-host?q HTTP/1.1\r\nX-Host: h\r\nHostname: h\r\nHos: h\r\nContent-Length: 5\r\n\r\n", true,
                    false),
            new Case("OPTIONS * HTTP/1.1\r\nX-A: 1\r\n\r\n", true, false),
            new Case("GET http://h/a HTTP/1.1\r\nX-A: 1\r\n\r\n", false, false),
            new Case("GET / HTTP/1.0\r\nX-A: 1\r\n\r\n", false, false),
            new Case("GET /f HTTP/1.1\r\nHost: h\r\nX-F: a\r\n b\r\n\r\n", false, true),
            new Case("GET /f HTTP/1.1\r\nX-F: a\r\n\tb\r\n\r\n", true, true));

    @Test
    void shouldPassEveryHeadThroughAddingHostOnlyWhereDueWhereverTheReadsAreCut() throws IOException {
        for (Case c : CASES) {
            String in = c.head() + BODY;
            String expected = expected(c);
            for (int cut = 1; cut < in.length(); cut++) {
                RequestHeadWatch watch = new RequestHeadWatch(connection(in.substring(0, cut), in.substring(cut)));
                assertThat(readAll(watch, 16 * 1024)).as("%s cut at %d", c.head(), cut).isEqualTo(expected);
                assertThat(watch.scanned()).as("%s cut at %d", c.head(), cut)
                        .isEqualTo((c.hostAdded() ? RequestHeadWatch.HOST_ADDED : 0)
                                | (c.folded() ? RequestHeadWatch.FOLDED : 0));
            }
        }
    }

    @Test
    void shouldPassEveryHeadThroughWhenItArrivesAByteAtATime() throws IOException {
        for (Case c : CASES) {
            String in = c.head() + BODY;
            String[] bytes = in.split("");
            RequestHeadWatch watch = new RequestHeadWatch(connection(bytes));
            assertThat(readAll(watch, 16 * 1024)).as(c.head()).isEqualTo(expected(c));
        }
    }

    /** The case's head and the body after it, with an empty Host line before the blank line where due. */
    private static String expected(Case c) {
        String head = c.head();
        return (c.hostAdded() ? head.substring(0, head.length() - 2) + "Host: \r\n\r\n" : head) + BODY;
    }

    @Test
    void shouldLeaveTheHeadAsSentWhenTheReaderLeavesNoRoomForTheHostLine() throws IOException {
        String in = "GET / HTTP/1.1\r\n\r\n";
        RequestHeadWatch watch = new RequestHeadWatch(connection(in));
        // Reads of at most 8 bytes: no room to add the line; Undertow then answers its own 400.
        assertThat(readAll(watch, 8)).isEqualTo(in);
        assertThat(watch.scanned()).isZero();
    }

    /** Reads everything through {@code watch} into buffers of {@code size} bytes, as Undertow reads heads. */
    private static String readAll(RequestHeadWatch watch, int size) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int reads = 0; reads < 10_000; reads++) {
            ByteBuffer dst = ByteBuffer.allocate(size);
            int n = watch.read(dst);
            if (n < 0) {
                return out.toString(StandardCharsets.ISO_8859_1);
            }
            assertThat(dst.position()).isEqualTo(n);
            out.write(dst.array(), 0, n);
        }
        throw new AssertionError("no end of stream");
    }

    /** A connection's source that returns each of {@code reads} from one read call (as far as it fits), then -1. */
    private static StreamSourceConduit connection(String... reads) {
        Deque<ByteBuffer> pending = new ArrayDeque<>();
        for (String r : reads) {
            pending.add(ByteBuffer.wrap(r.getBytes(StandardCharsets.ISO_8859_1)));
        }
        return (StreamSourceConduit) Proxy.newProxyInstance(RequestHeadWatchTest.class.getClassLoader(),
                new Class<?>[] {StreamSourceConduit.class}, (proxy, method, args) -> {
                    if (!method.getName().equals("read") || !(args[0] instanceof ByteBuffer dst)) {
                        throw new UnsupportedOperationException(method.getName());
                    }
                    ByteBuffer next = pending.peek();
                    if (next == null) {
                        return -1;
                    }
                    int n = Math.min(next.remaining(), dst.remaining());
                    ByteBuffer slice = next.slice();
                    slice.limit(n);
                    dst.put(slice);
                    next.position(next.position() + n);
                    if (!next.hasRemaining()) {
                        pending.poll();
                    }
                    return n;
                });
    }
}
