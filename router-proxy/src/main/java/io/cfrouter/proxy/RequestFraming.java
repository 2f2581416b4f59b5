package io.cfrouter.proxy;

import io.undertow.conduits.BrokenStreamSourceConduit;
import io.undertow.conduits.ChunkedStreamSourceConduit;
import io.undertow.conduits.ReadDataStreamSourceConduit;
import io.undertow.connector.PooledByteBuffer;
import io.undertow.server.Connectors;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.protocol.http.HttpServerConnection;
import io.undertow.util.HeaderMap;
import io.undertow.util.Headers;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.xnio.IoUtils;
import org.xnio.channels.StreamSinkChannel;
import org.xnio.conduits.AbstractStreamSourceConduit;
import org.xnio.conduits.ConduitReadableByteChannel;
import org.xnio.conduits.StreamSinkConduit;
import org.xnio.conduits.StreamSourceConduit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Request framing the router refuses to guess at, so that it and the backend never disagree on where a
 * request ends (request smuggling). Undertow itself rejects {@code Content-Length} with
 * {@code Transfer-Encoding} and repeated or invalid {@code Content-Length}; it decodes any
 * {@code Transfer-Encoding} but {@code identity} as chunked and reads chunk sizes leniently (a non-hex size
 * ends the body). This adds: {@code Transfer-Encoding} must be exactly {@code chunked}, and chunked bodies
 * must follow RFC 9112 §7.1 to the byte.
 */
final class RequestFraming {

    private static final Logger LOGGER = LogManager.getLogger();

    /** Sizes above this would overflow once shifted by one more hex digit. */
    private static final long MAX_CHUNK_SIZE = Long.MAX_VALUE >> 4;

    private RequestFraming() {
    }

    /**
     * Whether the request's {@code Transfer-Encoding}, if any, is the only one the router relays: exactly
     * {@code chunked}. Undertow has already refused it repeated or next to a {@code Content-Length}.
     */
    static boolean hasAcceptableTransferEncoding(HeaderMap headers) {
        String te = headers.getFirst(Headers.TRANSFER_ENCODING);
        return te == null || te.trim().equalsIgnoreCase("chunked");
    }

    /**
     * Has a chunked request body decoded through a strict check of its framing. On a framing error the
     * client gets a 400 (if no response byte went out yet) and the connection closes; the body read fails,
     * so the backend connection is closed with its request unfinished rather than reused.
     */
    static void enforceStrictChunks(HttpServerExchange exchange) {
        if (!(exchange.getConnection() instanceof HttpServerConnection connection)
                || !exchange.getRequestHeaders().contains(Headers.TRANSFER_ENCODING) || exchange.isRequestComplete()) {
            return;
        }
        // The check sits below the bytes Undertow's decoder pushes back into the connection (it reads ahead and
        // returns what it did not use), so that each byte is checked once, as it comes from the socket; the
        // bytes that came with the request head are checked here.
        StrictChunks strict = new StrictChunks(connection.getOriginalSourceConduit(), exchange, connection);
        StreamSourceConduit source = new ReadDataStreamSourceConduit(strict, connection);
        PooledByteBuffer early = connection.getExtraBytes();
        if (early != null) {
            ByteBuffer bytes = early.getBuffer();
            try {
                strict.framing.check(bytes, bytes.position(), bytes.limit());
            } catch (MalformedChunksException e) {
                strict.answerBadRequest(e.getMessage());
                source = new BrokenStreamSourceConduit(source, e);
            }
        }
        connection.getChannel().getSourceChannel().setConduit(new ChunkedStreamSourceConduit(
                source, exchange, chunked -> {
                    if (!chunked.isFinished()) {
                        exchange.setPersistent(false);
                    }
                    Connectors.terminateRequest(exchange);
                }));
    }

    /** Checks the raw chunked framing below Undertow's decoder, which does the decoding. */
    private static final class StrictChunks extends AbstractStreamSourceConduit<StreamSourceConduit> {
        private final HttpServerExchange exchange;
        private final HttpServerConnection connection;
        private final ChunkFraming framing = new ChunkFraming();

        StrictChunks(StreamSourceConduit next, HttpServerExchange exchange, HttpServerConnection connection) {
            super(next);
            this.exchange = exchange;
            this.connection = connection;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            int from = dst.position();
            int n = next.read(dst);
            if (n > 0) {
                check(dst, from, from + n);
            }
            return n;
        }

        @Override
        public long read(ByteBuffer[] dsts, int offs, int len) throws IOException {
            int[] from = new int[len];
            for (int i = 0; i < len; i++) {
                from[i] = dsts[offs + i].position();
            }
            long n = next.read(dsts, offs, len);
            if (n > 0) {
                for (int i = 0; i < len; i++) {
                    check(dsts[offs + i], from[i], dsts[offs + i].position());
                }
            }
            return n;
        }

        // Through read(), so that every byte is checked.
        @Override
        public long transferTo(long position, long count, FileChannel target) throws IOException {
            return target.transferFrom(new ConduitReadableByteChannel(this), position, count);
        }

        @Override
        public long transferTo(long count, ByteBuffer throughBuffer, StreamSinkChannel target) throws IOException {
            return IoUtils.transfer(new ConduitReadableByteChannel(this), count, throughBuffer, target);
        }

        private void check(ByteBuffer buffer, int from, int to) throws IOException {
            try {
                framing.check(buffer, from, to);
            } catch (MalformedChunksException e) {
                answerBadRequest(e.getMessage());
                throw e;
            }
        }

        /**
         * Answers 400 straight on the connection (the exchange's response belongs to the proxy, which has
         * not started it); the failed read that follows has Undertow's decoder close the client connection.
         */
        private void answerBadRequest(String problem) {
            LOGGER.debug("Malformed chunked request body from {}: {}", exchange.getSourceAddress(), problem);
            exchange.setPersistent(false);
            if (exchange.isResponseStarted()) {
                return;
            }
            try {
                ByteBuffer answer = ByteBuffer.wrap(RouterErrors.rawBadRequest("Malformed chunked request body."));
                StreamSinkConduit sink = connection.getOriginalSinkConduit();
                for (int i = 0; i < 8 && answer.hasRemaining() && sink.write(answer) > 0; i++) {
                    // a fresh socket buffer takes it in one write; never wait for a slow client here
                }
                sink.flush();
            } catch (IOException e) {
                LOGGER.debug("Could not answer 400 to {}", exchange.getSourceAddress(), e);
            }
        }
    }

    /** A chunked body's framing broke RFC 9112 §7.1. */
    static final class MalformedChunksException extends IOException {
        MalformedChunksException(String problem) {
            super("malformed chunked request body: " + problem);
        }
    }

    /**
     * The chunked-body grammar of RFC 9112 §7.1 as a byte-at-a-time state machine: hex chunk sizes (no sign,
     * no overflow), optional extensions, CRLF exactly where due, chunk data as long as announced, trailer
     * lines without folding, the final empty line. Bytes after the body's end are not looked at. Checks request
     * bodies ({@link #check}) and decodes backends' chunked responses for the forwarder ({@link #data}). Not
     * thread-safe: one per body.
     */
    static final class ChunkFraming {
        private static final int SIZE_FIRST = 0;
        private static final int SIZE = 1;
        private static final int SIZE_WHITESPACE = 2;
        private static final int EXTENSION = 3;
        private static final int SIZE_LF = 4;
        private static final int DATA = 5;
        private static final int DATA_CR = 6;
        private static final int DATA_LF = 7;
        private static final int TRAILER_START = 8;
        private static final int TRAILER = 9;
        private static final int TRAILER_LF = 10;
        private static final int LAST_LF = 11;
        private static final int DONE = 12;

        private int state = SIZE_FIRST;
        private long size;

        /** Whether the whole body, final empty line included, has gone through. */
        boolean isComplete() {
            return state == DONE;
        }

        /** Checks {@code buffer}'s bytes from index {@code from} to {@code to} (exclusive), the next of the body. */
        void check(ByteBuffer buffer, int from, int to) throws MalformedChunksException {
            int i = from;
            while (i < to && state != DONE) {
                if (state == DATA) {
                    long take = Math.min(size, to - i);
                    i += (int) take;
                    size -= take;
                    if (size == 0) {
                        state = DATA_CR;
                    }
                    continue;
                }
                try {
                    state = next(buffer.get(i++));
                } catch (MalformedChunksException e) {
                    state = DONE; // nothing after an error is checked: the connection closes
                    throw e;
                }
            }
        }

        /**
         * Decoding: consumes the framing bytes at {@code buffer}'s position, up to the next chunk data or the end
         * of the body; report the data bytes relayed with {@link #consumed(int)}.
         *
         * @return how many chunk data bytes start at the buffer's position now (0: more input is needed), or -1
         *         once the body, trailers included, has ended (bytes after it stay in the buffer)
         */
        int data(ByteBuffer buffer) throws MalformedChunksException {
            while (state != DONE) {
                if (state == DATA) {
                    return (int) Math.min(size, buffer.remaining());
                }
                if (!buffer.hasRemaining()) {
                    return 0;
                }
                try {
                    state = next(buffer.get());
                } catch (MalformedChunksException e) {
                    state = DONE;
                    throw e;
                }
            }
            return -1;
        }

        /** Decoding: {@code n} of the data bytes {@link #data(ByteBuffer)} announced went out. */
        void consumed(int n) {
            size -= n;
            if (size == 0) {
                state = DATA_CR;
            }
        }

        private int next(byte b) throws MalformedChunksException {
            switch (state) {
                case SIZE_FIRST, SIZE -> {
                    int digit = Character.digit(b, 16);
                    if (digit >= 0) {
                        if (size > MAX_CHUNK_SIZE) {
                            throw new MalformedChunksException("chunk size too large");
                        }
                        size = (size << 4) + digit;
                        return SIZE;
                    }
                    if (state == SIZE_FIRST) {
                        throw new MalformedChunksException("chunk size expected");
                    }
                    return afterSize(b);
                }
                case SIZE_WHITESPACE -> {
                    return afterSize(b);
                }
                case EXTENSION -> {
                    if (b == '\r') {
                        return SIZE_LF;
                    }
                    if (b == '\n' || (b < 0x20 && b >= 0 && b != '\t') || b == 0x7f) {
                        throw new MalformedChunksException("invalid chunk extension");
                    }
                    return EXTENSION;
                }
                case SIZE_LF -> {
                    expect(b, '\n');
                    return size == 0 ? TRAILER_START : DATA;
                }
                case DATA_CR -> {
                    expect(b, '\r');
                    return DATA_LF;
                }
                case DATA_LF -> {
                    expect(b, '\n');
                    size = 0;
                    return SIZE_FIRST;
                }
                case TRAILER_START -> {
                    if (b == '\r') {
                        return LAST_LF;
                    }
                    if (b == ' ' || b == '\t' || b == '\n') {
                        throw new MalformedChunksException("folded or bare-LF trailer line");
                    }
                    return TRAILER;
                }
                case TRAILER -> {
                    if (b == '\n') {
                        throw new MalformedChunksException("bare LF in a trailer");
                    }
                    return b == '\r' ? TRAILER_LF : TRAILER;
                }
                case TRAILER_LF -> {
                    expect(b, '\n');
                    return TRAILER_START;
                }
                case LAST_LF -> {
                    expect(b, '\n');
                    return DONE;
                }
                default -> throw new IllegalStateException("state " + state);
            }
        }

        private static int afterSize(byte b) throws MalformedChunksException {
            if (b == ' ' || b == '\t') {
                return SIZE_WHITESPACE;
            }
            if (b == ';') {
                return EXTENSION;
            }
            if (b == '\r') {
                return SIZE_LF;
            }
            throw new MalformedChunksException("invalid chunk size");
        }

        private static void expect(byte b, char expected) throws MalformedChunksException {
            if (b != expected) {
                throw new MalformedChunksException(expected == '\n' ? "CR without LF" : "chunk data longer than its size");
            }
        }
    }
}
