package io.cfrouter.proxy;

import io.undertow.util.HeaderMap;
import io.undertow.util.Headers;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RequestFramingTest {

    private static RequestFraming.ChunkFraming checked(String body) throws RequestFraming.MalformedChunksException {
        RequestFraming.ChunkFraming framing = new RequestFraming.ChunkFraming();
        byte[] bytes = body.getBytes(StandardCharsets.ISO_8859_1);
        framing.check(ByteBuffer.wrap(bytes), 0, bytes.length);
        return framing;
    }

    /** The same body a byte at a time, as a slow client would send it. */
    private static RequestFraming.ChunkFraming checkedByteByByte(String body)
            throws RequestFraming.MalformedChunksException {
        RequestFraming.ChunkFraming framing = new RequestFraming.ChunkFraming();
        ByteBuffer buffer = ByteBuffer.wrap(body.getBytes(StandardCharsets.ISO_8859_1));
        for (int i = 0; i < buffer.limit(); i++) {
            framing.check(buffer, i, i + 1);
        }
        return framing;
    }

    @Test
    void shouldAcceptOnlyChunkedAsTransferEncoding() {
        HeaderMap headers = new HeaderMap();
        assertThat(RequestFraming.hasAcceptableTransferEncoding(headers)).isTrue();
        headers.put(Headers.TRANSFER_ENCODING, "Chunked");
        assertThat(RequestFraming.hasAcceptableTransferEncoding(headers)).isTrue();
        for (String other : new String[] {"chunked, identity", "gzip, chunked", "gzip", "identity", "identity chunked"}) {
            headers.put(Headers.TRANSFER_ENCODING, other);
            assertThat(RequestFraming.hasAcceptableTransferEncoding(headers)).as(other).isFalse();
        }
    }

    @Test
    void shouldPassWellFormedChunkedBodiesWhateverTheirSplit() throws Exception {
        String body = "5\r\nhello\r\n1A;name=value\r\n" + "x".repeat(26) + "\r\n0\r\nX-Trailer: t\r\n\r\n";
        assertThat(checked(body).isComplete()).isTrue();
        assertThat(checkedByteByByte(body).isComplete()).isTrue();
        assertThat(checked("0\r\n\r\n").isComplete()).isTrue();
        assertThat(checked("5\r\nhel").isComplete()).isFalse();
    }

    @Test
    void shouldNotLookPastTheEndOfTheBody() throws Exception {
        assertThat(checked("0\r\n\r\nGET /next HTTP/1.1\r\n\r\nzz\n").isComplete()).isTrue();
    }

    @Test
    void shouldRejectBrokenFraming() {
        String[] broken = {
            "zz\r\nhello\r\n0\r\n\r\n",                 // non-hex size
            "-5\r\nhello\r\n0\r\n\r\n",                 // negative size
            "+5\r\nhello\r\n0\r\n\r\n",                 // signed size
            "10000000000000000\r\nhello\r\n0\r\n\r\n",  // overflowing size
            "\r\nhello\r\n0\r\n\r\n",                   // no size
            "5\nhello\r\n0\r\n\r\n",                    // bare LF after the size
            "5\r\nhello!\r\n0\r\n\r\n",                 // data longer than its size
            "5\r\nhello\n0\r\n\r\n",                    // bare LF after the data
            "5x\r\nhello\r\n0\r\n\r\n",                 // junk after the size
            "0\r\nX-Trailer: a\r\n b\r\n\r\n",          // folded trailer
            "0\r\nX-Trailer: a\n\r\n",                  // bare LF in a trailer
            "0\r\n\r\r",                                // no final LF
        };
        for (String body : broken) {
            assertThatThrownBy(() -> checked(body)).as(body).isInstanceOf(RequestFraming.MalformedChunksException.class);
            assertThatThrownBy(() -> checkedByteByByte(body)).as(body)
                    .isInstanceOf(RequestFraming.MalformedChunksException.class);
        }
    }

    /** Decodes {@code body} fed in the given pieces; returns the data and what followed the body (null: none). */
    private static String[] decoded(byte[] body, int... splits) throws RequestFraming.MalformedChunksException {
        RequestFraming.ChunkFraming decoder = new RequestFraming.ChunkFraming();
        StringBuilder data = new StringBuilder();
        ByteBuffer buffer = ByteBuffer.allocate(body.length).flip();
        int from = 0;
        int[] ends = java.util.Arrays.copyOf(splits, splits.length + 1);
        ends[splits.length] = body.length;
        for (int to : ends) {
            buffer.compact().put(body, from, to - from).flip(); // a read appends what came
            from = to;
            while (true) {
                int n = decoder.data(buffer);
                if (n < 0) {
                    byte[] rest = new byte[buffer.remaining()];
                    buffer.get(rest);
                    return new String[] {data.toString(), new String(rest, StandardCharsets.ISO_8859_1)};
                }
                if (n == 0) {
                    break;
                }
                // a client that takes part of it at a time
                byte[] taken = new byte[Math.max(1, n / 2)];
                buffer.get(taken);
                data.append(new String(taken, StandardCharsets.ISO_8859_1));
                decoder.consumed(taken.length);
            }
        }
        return new String[] {data.toString(), null};
    }

    @Test
    void shouldDecodeAChunkedBodySplitAtEveryByte() throws Exception {
        String body = "5\r\nhello\r\n1A;ext=v\r\n" + "y".repeat(26) + "\r\n0\r\nX-Trailer: t\r\n\r\n";
        byte[] bytes = (body + "NEXT").getBytes(StandardCharsets.ISO_8859_1);
        String expected = "hello" + "y".repeat(26);
        for (int split = 0; split <= bytes.length; split++) {
            // what follows the body is left as far as it had come when the body ended
            String after = split <= body.length() ? "NEXT" : "NEXT".substring(0, split - body.length());
            if (split == body.length()) {
                after = "";
            }
            assertThat(decoded(bytes, split)).as("split at " + split).containsExactly(expected, after);
        }
        int[] everyByte = new int[bytes.length - 1];
        for (int i = 0; i < everyByte.length; i++) {
            everyByte[i] = i + 1;
        }
        assertThat(decoded(bytes, everyByte)).as("a byte at a time").containsExactly(expected, "");
        assertThat(decoded("5\r\nhel".getBytes(StandardCharsets.ISO_8859_1))).as("incomplete")
                .containsExactly("hel", null);
    }

    @Test
    void shouldRefuseBrokenFramingWhileDecoding() {
        for (String body : new String[] {"zz\r\nhello\r\n0\r\n\r\n", "5\r\nhello!\r\n0\r\n\r\n",
            "0\r\nX-T: a\r\n b\r\n\r\n", "5\nhello\r\n0\r\n\r\n"}) {
            assertThatThrownBy(() -> decoded(body.getBytes(StandardCharsets.ISO_8859_1))).as(body)
                    .isInstanceOf(RequestFraming.MalformedChunksException.class);
        }
    }
}
