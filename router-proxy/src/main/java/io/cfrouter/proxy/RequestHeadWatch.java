package io.cfrouter.proxy;

import io.undertow.connector.PooledByteBuffer;
import io.undertow.server.ExchangeCompletionListener;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.protocol.http.HttpServerConnection;
import io.undertow.util.AttachmentKey;
import io.undertow.util.Methods;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.xnio.ChannelListener;
import org.xnio.IoUtils;
import org.xnio.StreamConnection;
import org.xnio.channels.StreamSinkChannel;
import org.xnio.conduits.AbstractStreamSourceConduit;
import org.xnio.conduits.ConduitReadableByteChannel;
import org.xnio.conduits.StreamSourceConduit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Reads the raw bytes of each request head on a client connection as Undertow's parser takes them in, for
 * what that parser leaves no trace of:
 *
 * <ul>
 *   <li>an obs-fold line (a header line starting with a space or tab, RFC 9112 §5.2), which Undertow joins
 *       into the line before: the router refuses the request ({@link #FOLDED});</li>
 *   <li>a {@code ?} that Undertow drops from the request target: one that ends it (the query is empty,
 *       {@link #BARE_QUERY}) or one that starts the query ({@link #QUERY_QUESTION_MARK}); the URI is
 *       forwarded with them.</li>
 * </ul>
 *
 * <p>One per connection: the source conduit under Undertow's own, installed as the connection is accepted
 * ({@link #watching(ChannelListener)}). It looks only at head bytes: from the connection's first byte, and
 * from where Undertow's parser starts again after each exchange (the bytes it already holds, then what is
 * read), up to the blank line that ends the head. Body bytes, pipelined requests read ahead and upgraded
 * connections pass through untouched. The root handler ({@link #watching(HttpHandler)}) hands each
 * exchange the facts of its head, checked against what Undertow parsed (method and target length), and
 * restarts the scan when the exchange completes on a connection that stays open for another request.
 *
 * <p>Lives on the connection's I/O thread (and hands over with Undertow's own exchange hand-offs).
 */
final class RequestHeadWatch extends AbstractStreamSourceConduit<StreamSourceConduit>
        implements ExchangeCompletionListener {

    /** A header line of the head starts with a space or tab (obs-fold). */
    static final int FOLDED = 1;
    /** The request target ends with the {@code ?} that starts its query: Undertow's query is empty. */
    static final int BARE_QUERY = 1 << 1;
    /** The query starts with a {@code ?}, which Undertow drops from it ({@code /p??q} has the query {@code q}). */
    static final int QUERY_QUESTION_MARK = 1 << 2;

    private static final Logger LOGGER = LogManager.getLogger();
    private static final AttachmentKey<Integer> FLAGS = AttachmentKey.create(Integer.class);

    // Where the scan is in the head.
    private static final int METHOD = 0;
    private static final int TARGET = 1;
    private static final int VERSION = 2;
    private static final int LINE_START = 3;
    private static final int NAME = 4;
    private static final int VALUE = 5;
    private static final int BLANK_LINE = 6;

    /** Whether the next bytes read are head bytes. */
    private boolean scanning = true;
    /** Whether the scan reached the end of a head since it last started. */
    private boolean complete;
    private int phase;
    private int methodLength;
    private int targetLength;
    /** Where the first {@code ?} of the target is, -1 if none; the byte after it, 0 if none. */
    private int queryMark;
    private byte queryFirst;
    private int flags;

    private RequestHeadWatch(StreamSourceConduit next) {
        super(next);
        queryMark = -1;
    }

    /** Wraps Undertow's open listener: each accepted connection's source gets a watch under Undertow's own. */
    static ChannelListener<StreamConnection> watching(ChannelListener<StreamConnection> openListener) {
        return connection -> {
            connection.getSourceChannel().setConduit(new RequestHeadWatch(connection.getSourceChannel().getConduit()));
            openListener.handleEvent(connection);
        };
    }

    /** The root handler of a watched listener: hands each exchange its head's facts, then calls {@code next}. */
    static HttpHandler watching(HttpHandler next) {
        return exchange -> {
            if (exchange.getConnection() instanceof HttpServerConnection connection
                    && connection.getOriginalSourceConduit() instanceof RequestHeadWatch watch) {
                watch.begin(exchange);
            }
            next.handleRequest(exchange);
        };
    }

    /** The facts of the exchange's request head ({@link #FOLDED}, ...); 0 when none, or the head was not watched. */
    static int flags(HttpServerExchange exchange) {
        Integer f = exchange.getAttachment(FLAGS);
        return f == null ? 0 : f;
    }

    /**
     * What goes between the exchange's request URI and its query string for the target as sent: {@code ""}
     * when there is no query, {@code "?"}, or {@code "??"} when Undertow dropped the query's leading
     * {@code ?}.
     */
    static String querySeparator(HttpServerExchange exchange) {
        int f = flags(exchange);
        if ((f & QUERY_QUESTION_MARK) != 0) {
            return "??";
        }
        return exchange.getQueryString().isEmpty() && (f & BARE_QUERY) == 0 ? "" : "?";
    }

    private void begin(HttpServerExchange exchange) {
        int f = headFlags(exchange);
        scanning = false; // the body, if any, is not looked at
        if (f != 0) {
            exchange.putAttachment(FLAGS, f);
        }
        exchange.addExchangeCompleteListener(this);
    }

    /** The facts of the head Undertow just parsed, if the scan saw the same head; else 0. */
    private int headFlags(HttpServerExchange exchange) {
        if (!complete) {
            LOGGER.debug("No complete request head seen before {} {}: not checked", exchange.getRequestMethod(),
                    exchange.getRequestURI());
            return 0;
        }
        int f = flags;
        int expectedTarget = exchange.getRequestURI().length() + exchange.getQueryString().length();
        if (queryMark >= 0) {
            expectedTarget++;
            if (queryFirst == '?') {
                f |= QUERY_QUESTION_MARK;
                expectedTarget++;
            } else if (queryMark == targetLength - 1) {
                f |= BARE_QUERY;
            }
        }
        if (methodLength != exchange.getRequestMethod().length() || targetLength != expectedTarget) {
            LOGGER.debug("The request head seen ({} + {} bytes) is not the one parsed for {} {}: not checked",
                    methodLength, targetLength, exchange.getRequestMethod(), exchange.getRequestURI());
            return 0;
        }
        return f;
    }

    /**
     * The exchange is over. If the connection stays open for another request, the next head starts where
     * Undertow's parser starts: with the bytes it already holds (read with this request), then what is read.
     */
    @Override
    public void exchangeEvent(HttpServerExchange exchange, NextListener nextListener) {
        try {
            if (exchange.isPersistent() && !exchange.isUpgrade() && !exchange.getRequestMethod().equals(Methods.CONNECT)
                    && exchange.getConnection() instanceof HttpServerConnection connection) {
                restart(connection);
            }
        } finally {
            nextListener.proceed();
        }
    }

    private void restart(HttpServerConnection connection) {
        scanning = true;
        complete = false;
        phase = METHOD;
        methodLength = 0;
        targetLength = 0;
        queryMark = -1;
        queryFirst = 0;
        flags = 0;
        PooledByteBuffer readAhead = connection.getExtraBytes();
        if (readAhead != null) {
            ByteBuffer b = readAhead.getBuffer();
            scan(b, b.position(), b.limit());
        }
    }

    // ---- reading --------------------------------------------------------------------------------------

    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (!scanning) {
            return next.read(dst);
        }
        int from = dst.position();
        int n = next.read(dst);
        if (n > 0) {
            scan(dst, from, from + n);
        }
        return n;
    }

    @Override
    public long read(ByteBuffer[] dsts, int offs, int len) throws IOException {
        if (!scanning) {
            return next.read(dsts, offs, len);
        }
        for (int i = offs; i < offs + len; i++) {
            if (dsts[i].hasRemaining()) {
                return read(dsts[i]);
            }
        }
        return next.read(dsts, offs, len);
    }

    @Override
    public long transferTo(long position, long count, FileChannel target) throws IOException {
        if (!scanning) {
            return next.transferTo(position, count, target);
        }
        return target.transferFrom(new ConduitReadableByteChannel(this), position, count);
    }

    @Override
    public long transferTo(long count, ByteBuffer throughBuffer, StreamSinkChannel target) throws IOException {
        if (!scanning) {
            return next.transferTo(count, throughBuffer, target);
        }
        return IoUtils.transfer(new ConduitReadableByteChannel(this), count, throughBuffer, target);
    }

    // ---- the scan -------------------------------------------------------------------------------------

    /** Scans head bytes; stops at the end of the head ({@code scanning} off). */
    private void scan(ByteBuffer buffer, int from, int to) {
        for (int i = from; i < to && scanning; i++) {
            byte b = buffer.get(i);
            switch (phase) {
                case METHOD -> {
                    if (b == ' ') {
                        phase = TARGET;
                    } else {
                        methodLength++;
                    }
                }
                case TARGET -> {
                    if (b == ' ') {
                        phase = VERSION;
                    } else {
                        if (queryMark >= 0 && queryMark == targetLength - 1) {
                            queryFirst = b;
                        }
                        if (b == '?' && queryMark < 0) {
                            queryMark = targetLength;
                        }
                        targetLength++;
                    }
                }
                case VERSION -> {
                    if (b == '\n') {
                        phase = LINE_START;
                    }
                }
                case LINE_START -> {
                    if (b == '\n') {
                        endOfHead(); // a bare LF: Undertow refuses the head
                    } else if (b == '\r') {
                        phase = BLANK_LINE;
                    } else if (b == ' ' || b == '\t') {
                        flags |= FOLDED;
                        phase = VALUE;
                    } else {
                        phase = NAME;
                    }
                }
                case NAME -> {
                    if (b == ':') {
                        phase = VALUE;
                    } else if (b == '\n') {
                        phase = LINE_START;
                    }
                }
                case VALUE -> {
                    if (b == '\n') {
                        phase = LINE_START;
                    }
                }
                default -> endOfHead(); // BLANK_LINE: its LF (anything else, Undertow refuses)
            }
        }
    }

    private void endOfHead() {
        scanning = false;
        complete = true;
    }
}
