package io.cfrouter.proxy;

import io.undertow.connector.PooledByteBuffer;
import io.undertow.server.ExchangeCompletionListener;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.protocol.http.HttpServerConnection;
import io.undertow.util.AttachmentKey;
import io.undertow.util.ImmediatePooledByteBuffer;
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
import java.nio.charset.StandardCharsets;

/**
 * Reads the raw bytes of each request head on a client connection as Undertow's parser takes them in, for
 * what that parser leaves no trace of:
 *
 * <ul>
 *   <li>an obs-fold line (a header line starting with a space or tab, RFC 9112 §5.2), which Undertow joins
 *       into the line before: the router refuses the request ({@link #FOLDED});</li>
 *   <li>a {@code ?} that Undertow drops from the request target: one that ends it (the query is empty,
 *       {@link #BARE_QUERY}) or one that starts the query ({@link #QUERY_QUESTION_MARK}); the URI is
 *       forwarded with them;</li>
 *   <li>an HTTP/1.1 request without {@code Host}, which Undertow answers with a bare 400 ahead of every
 *       handler: an empty {@code Host} line is added to the head before Undertow parses it, so that the
 *       router answers it as the empty {@code Host} it is ({@link #HOST_ADDED}; origin and asterisk form
 *       only, since Undertow checks the {@code Host} of the other forms against the target).</li>
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
 * <p>It also saves two system calls per request. Once it has parsed a head, Undertow suspends the
 * connection's reads until the exchange ends, then resumes them: with the JDK's epoll selector each is an
 * {@code epoll_ctl}, since the two fall in different turns of the I/O loop. The watch keeps that one suspend
 * to itself and leaves reads on: if a byte does arrive during the request (a pipelined request, the
 * client's close), Undertow's read listener meets a running request and suspends reads then, which this
 * passes on, as it does every other suspend. A keep-alive request that arrives alone thus costs no
 * {@code epoll_ctl} at all. If Undertow refuses the head instead (its 400 closes the connection), a read
 * before the exchange starts ends the connection at once ({@link #read}).
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
    /** The HTTP/1.1 head had no {@code Host}; an empty one was added. */
    static final int HOST_ADDED = 1 << 3;

    private static final Logger LOGGER = LogManager.getLogger();
    private static final AttachmentKey<Integer> FLAGS = AttachmentKey.create(Integer.class);
    private static final byte[] EMPTY_HOST = "Host: \r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] HOST = "host".getBytes(StandardCharsets.US_ASCII);
    private static final long HTTP_1_1 = pack("HTTP/1.1");

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
    private byte targetFirst;
    /** Where the first {@code ?} of the target is, -1 if none; the byte after it, 0 if none. */
    private int queryMark;
    private byte queryFirst;
    private long version;
    private int versionLength;
    /** Bytes of {@code host} matched at the start of the current header name; -1 once it differs. */
    private int hostMatched;
    private boolean hostSeen;
    private int flags;
    /** A head was scanned to its end: Undertow's next suspend of reads is the one kept back. */
    private boolean suspendDue;
    /** That suspend was kept back and the exchange has not started (or the head was refused). */
    private boolean suspendKept;

    RequestHeadWatch(StreamSourceConduit next) {
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

    /** The facts of the last head seen to its end ({@link #FOLDED}, {@link #HOST_ADDED}), -1 while none is. */
    int scanned() {
        return complete ? flags : -1;
    }

    private void begin(HttpServerExchange exchange) {
        suspendDue = false;
        suspendKept = false;
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
        suspendDue = false;
        suspendKept = false;
        scanning = true;
        complete = false;
        phase = METHOD;
        methodLength = 0;
        targetLength = 0;
        targetFirst = 0;
        queryMark = -1;
        queryFirst = 0;
        version = 0;
        versionLength = 0;
        hostMatched = 0;
        hostSeen = false;
        flags = 0;
        PooledByteBuffer readAhead = connection.getExtraBytes();
        if (readAhead == null) {
            return;
        }
        ByteBuffer b = readAhead.getBuffer();
        int at = scan(b, b.position(), b.limit());
        if (at < 0) {
            return;
        }
        hostSeen = true;
        if (b.limit() + EMPTY_HOST.length > b.capacity()) {
            // No room after the bytes (Undertow's chunked decoder hands back just what it read ahead): copy them.
            ByteBuffer copy = ByteBuffer.allocate(b.remaining() + EMPTY_HOST.length);
            at -= b.position();
            copy.put(b).flip();
            connection.setExtraBytes(new ImmediatePooledByteBuffer(copy));
            readAhead.close();
            b = copy;
        }
        int end = b.limit();
        b.limit(end + EMPTY_HOST.length);
        addHost(b, at, end);
        scan(b, at + EMPTY_HOST.length, b.limit());
    }

    // ---- reading --------------------------------------------------------------------------------------

    /** Passes every suspend on but Undertow's first after a head (see the class comment). */
    @Override
    public void suspendReads() {
        if (suspendDue) {
            suspendDue = false;
            suspendKept = true;
            return;
        }
        next.suspendReads();
    }

    /**
     * Reads the connection. Between the kept-back suspend and the start of its exchange nobody reads: a read
     * there means Undertow refused the head and its listener woke for more bytes. That connection is closing
     * after Undertow's 400; it ends now, as end of stream, rather than have the refused head's bytes parsed on.
     */
    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (suspendKept) {
            return -1;
        }
        if (!scanning) {
            return next.read(dst);
        }
        int from = dst.position();
        int limit = dst.limit();
        // Keep room for an added Host line: Undertow reads heads into a large buffer.
        boolean reserve = dst.remaining() > 2 * EMPTY_HOST.length;
        if (reserve) {
            dst.limit(limit - EMPTY_HOST.length);
        }
        int n;
        try {
            n = next.read(dst);
        } finally {
            dst.limit(limit);
        }
        if (n <= 0) {
            return n;
        }
        int end = scanAndAmend(dst, from, from + n, limit);
        dst.position(end);
        return end - from;
    }

    @Override
    public long read(ByteBuffer[] dsts, int offs, int len) throws IOException {
        if (suspendKept) {
            return -1;
        }
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

    /**
     * Scans {@code buffer[from, to)}, adding the empty {@code Host} line where it is due and there is room
     * up to {@code room}; returns the new end of the bytes.
     */
    private int scanAndAmend(ByteBuffer buffer, int from, int to, int room) {
        int at = scan(buffer, from, to);
        if (at < 0) {
            return to;
        }
        hostSeen = true; // added here, or Undertow refuses the head
        if (to + EMPTY_HOST.length > room) {
            scan(buffer, at, to);
            return to;
        }
        addHost(buffer, at, to);
        scan(buffer, at + EMPTY_HOST.length, to + EMPTY_HOST.length);
        return to + EMPTY_HOST.length;
    }

    /** Puts the empty {@code Host} line at {@code at}, moving {@code buffer[at, end)} after it. */
    private void addHost(ByteBuffer buffer, int at, int end) {
        for (int i = end - 1; i >= at; i--) {
            buffer.put(i + EMPTY_HOST.length, buffer.get(i));
        }
        buffer.put(at, EMPTY_HOST);
        flags |= HOST_ADDED;
    }

    /**
     * Scans head bytes; stops at the end of the head ({@code scanning} off), or at the blank line of an
     * HTTP/1.1 head without {@code Host}, returning its index for the line to be added there; else -1.
     */
    private int scan(ByteBuffer buffer, int from, int to) {
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
                        if (targetLength == 0) {
                            targetFirst = b;
                        }
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
                    } else if (b != '\r' && versionLength++ < 8) {
                        version = version << 8 | (b & 0xFF);
                    }
                }
                case LINE_START -> {
                    if (b == '\r' || b == '\n') {
                        if (!hostSeen && needsHost()) {
                            return i;
                        }
                        if (b == '\n') {
                            endOfHead(); // a bare LF: Undertow refuses the head
                        } else {
                            phase = BLANK_LINE;
                        }
                    } else if (b == ' ' || b == '\t') {
                        flags |= FOLDED;
                        phase = VALUE;
                    } else {
                        hostMatched = matchHost(0, b);
                        phase = NAME;
                    }
                }
                case NAME -> {
                    if (b == ':') {
                        hostSeen |= hostMatched == HOST.length;
                        phase = VALUE;
                    } else if (b == '\n') {
                        phase = LINE_START;
                    } else {
                        hostMatched = matchHost(hostMatched, b);
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
        return -1;
    }

    private void endOfHead() {
        scanning = false;
        complete = true;
        suspendDue = true;
    }

    private boolean needsHost() {
        return versionLength == 8 && version == HTTP_1_1 && (targetFirst == '/' || targetFirst == '*');
    }

    private static int matchHost(int matched, byte b) {
        if (matched < 0 || matched >= HOST.length) {
            return -1;
        }
        return (b | 0x20) == HOST[matched] ? matched + 1 : -1;
    }

    private static long pack(String ascii) {
        long v = 0;
        for (int i = 0; i < ascii.length(); i++) {
            v = v << 8 | ascii.charAt(i);
        }
        return v;
    }
}
