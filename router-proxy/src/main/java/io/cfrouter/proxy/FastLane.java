package io.cfrouter.proxy;

import io.cfrouter.core.Endpoint;
import io.cfrouter.core.RequestRecord;
import io.cfrouter.registry.Route;
import io.undertow.util.DateUtils;
import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import io.undertow.util.StatusCodes;
import org.xnio.Buffers;
import org.xnio.ChannelListener;
import org.xnio.IoUtils;
import org.xnio.StreamConnection;
import org.xnio.XnioIoThread;
import org.xnio.conduits.ConduitStreamSinkChannel;
import org.xnio.conduits.ConduitStreamSourceChannel;
import org.xnio.conduits.PushBackStreamSourceConduit;
import org.xnio.channels.StreamSinkChannel;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Date;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The router's own HTTP/1.1 server path for the common request: a keep-alive {@code GET} or {@code HEAD}
 * without a body, with one {@code Host}, whose head fits the read buffer. Such a request is read from the client
 * connection's bytes, checked and forwarded without Undertow's exchange, header maps or response conduits: its
 * head is parsed once, the backend's request head is the client's header lines as they came (minus the
 * ones the router sets) plus the router's, and the client's response head is the backend's kept lines plus
 * the router's. Attempts, retries, failure marks, the deadlines, the sticky cookie, the router's 502 and 503
 * and the request's record are as for the {@link ForwardedRequest}s of the Undertow path.
 *
 * <p>A head that comes in pieces is read on until it is whole, for at most the read-header timeout (then the
 * connection closes, as Undertow's parse timeout closes it).
 *
 * <p>Everything else is handed to Undertow, with the bytes read so far, at a request boundary, and the
 * connection stays Undertow's from then on: a head larger than the read buffer, any other method, a
 * body, {@code Expect}, {@code Upgrade}, {@code Connection} or another hop-by-hop field, HTTP/1.0, a target
 * that is not a plain path, a byte outside the plain set (obs-fold, obs-text, a bare LF), a head larger than
 * {@code max_request_header_bytes}, the {@code User-Agent} health check, {@code X-Vcap-Trace}, a
 * {@code __VCAP_ID__} cookie, a host without a route, and every request once {@link #shutdown()} was called.
 * Undertow then gives the contract's answer to each, as it always did.
 *
 * <p>One per listener; each client connection is served on its I/O thread by one {@link Client}, with
 * the forwarder's per-thread backend pools and buffers. Thread-safe.
 */
final class FastLane {

    private static final byte[] GET = "GET ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] HEAD = "HEAD ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] HTTP_11 = " HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] VCAP_ID = StickySessions.VCAP_ID.getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CHUNKED_FIELD = "Transfer-Encoding: chunked\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CONNECTION_CLOSE = "Connection: close\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] LAST_CHUNK = {'0', '\r', '\n', '\r', '\n'};
    private static final boolean[] TARGET = new boolean[256];
    private static final boolean[] HOST = new boolean[256];
    private static final boolean[] TCHAR = new boolean[256];
    private static final byte[][] STATUS_LINES = new byte[600][];

    static {
        for (char c = '0'; c <= '9'; c++) {
            TARGET[c] = HOST[c] = TCHAR[c] = true;
        }
        for (char c = 'a'; c <= 'z'; c++) {
            TARGET[c] = HOST[c] = TCHAR[c] = true;
            TARGET[c - 32] = HOST[c - 32] = TCHAR[c - 32] = true;
        }
        for (char c : "-._~!$&'()*+,=:@/?%".toCharArray()) {
            TARGET[c] = true;
        }
        for (char c : "-._:[]".toCharArray()) {
            HOST[c] = true;
        }
        for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
            TCHAR[c] = true;
        }
        for (int status = 100; status < 600; status++) {
            STATUS_LINES[status] = ("HTTP/1.1 " + status + " " + StatusCodes.getReason(status) + "\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1);
        }
    }

    private final RouterHandler handler;
    private final Forwarder forwarder;
    private final ChannelListener<StreamConnection> undertow;
    private final Deadlines idle;
    private final Deadlines headerTimeouts;
    private final int maxHeadBytes;
    private final byte[] healthcheckUserAgent;
    /** Per-thread cells: taken and released on a request's own I/O thread, not one line both threads write. */
    private final LongAdder inFlight = new LongAdder();
    private final LongAdder taken = new LongAdder();
    private volatile boolean shutdown;

    /**
     * @param handler the router's handler; it must have a forwarder and the registry's own lookup
     * @param undertow what takes a connection handed over (Undertow's open listener, with the watches)
     * @param idleTimeout how long a connection may wait for its next request
     * @param readHeaderTimeout how long a head may take to come whole, from its first incomplete read
     */
    FastLane(RouterHandler handler, ChannelListener<StreamConnection> undertow, Duration idleTimeout,
             Duration readHeaderTimeout) {
        if (!usable(handler)) {
            throw new IllegalArgumentException("the fast lane needs the forwarder and the registry's own lookup");
        }
        this.handler = handler;
        this.forwarder = handler.forwarder;
        this.undertow = undertow;
        this.idle = new Deadlines(idleTimeout);
        this.headerTimeouts = new Deadlines(readHeaderTimeout);
        this.maxHeadBytes = handler.settings.maxRequestHeaderBytes();
        this.healthcheckUserAgent = handler.settings.healthcheckUserAgent().getBytes(StandardCharsets.ISO_8859_1);
    }

    /** Whether {@code handler} can have a fast lane: the forwarder engine and no embedder's route lookup. */
    static boolean usable(RouterHandler handler) {
        return handler.forwarder != null && handler.registryLookup;
    }

    /** Serves each accepted connection; hands it to {@code undertow} when a request is not one for this lane. */
    ChannelListener<StreamConnection> opening() {
        return connection -> new Client(connection).start();
    }

    /** From now on every request is handed to Undertow (whose handlers answer during a drain). */
    void shutdown() {
        shutdown = true;
    }

    /** Requests this lane has taken (answered or in flight). */
    long taken() {
        return taken.sum();
    }

    /** Waits until no request of this lane is in flight; false if {@code millis} passed first. */
    boolean awaitIdle(long millis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (inFlight.sum() > 0) {
            if (System.nanoTime() - deadline >= 0) {
                return false;
            }
            Thread.sleep(5);
        }
        return true;
    }

    /** The {@code Date} value for now, made once a second per thread. */
    private static final class Clock {
        private long second = Long.MIN_VALUE;
        private String date;

        String date(long millis) {
            long s = millis / 1000;
            if (s != second) {
                second = s;
                date = DateUtils.toDateString(new Date(millis));
            }
            return date;
        }
    }

    private static final ThreadLocal<Clock> CLOCKS = ThreadLocal.withInitial(Clock::new);

    // States of a client connection.
    private static final int WAITING = 0;
    private static final int BUSY = 1;
    private static final int CLOSED = 2;
    private static final int HANDED_OVER = 3;

    /**
     * One client connection while it is the lane's: its requests are read here, one at a time (pipelined ones
     * wait in {@link #in}), and each is a {@link Request} from its start to the last byte of its response.
     * Every event of the connection comes to {@link #handleEvent} on its I/O thread: nothing is locked.
     */
    private final class Client extends Deadlines.Entry implements ChannelListener<Channel> {
        private final StreamConnection connection;
        private final ConduitStreamSourceChannel source;
        private final ConduitStreamSinkChannel sink;
        private final XnioIoThread thread;
        private Forwarder.Local local;
        private ClientAddress address;
        private int state = WAITING;
        /** Part of a head has come, and the header timeout runs. */
        private boolean partial;
        /** Bytes read from the client and not yet used, ready to read; null when there are none. */
        private ByteBuffer in;
        /** The backend's request head up to the endpoint's fields (room for a typical one; it grows). */
        private final HeadBuilder prefix = new HeadBuilder(1024);
        /** The request in progress, or null. */
        private Request request;
        /** For writes of the pending bytes and body bytes together. */
        private final ByteBuffer[] pair = new ByteBuffer[2];

        // The facts of the request last read.
        private boolean head;
        /** The client asked to close the connection after this request ({@code Connection: close}). */
        private boolean closeAfter;
        private String host;
        private String uri;
        private String referer;
        private String userAgent;
        private String forwardedFor;
        private String forwardedProto;
        private long startNanos;
        private long startMillis;
        private Route route;

        Client(StreamConnection connection) {
            this.connection = connection;
            this.source = connection.getSourceChannel();
            this.sink = connection.getSinkChannel();
            this.thread = connection.getIoThread();
        }

        void start() {
            InetSocketAddress peer = connection.getPeerAddress(InetSocketAddress.class);
            String ip = RouterHandler.clientIp(peer);
            address = new ClientAddress(peer, ip, ProxiedRequest.clientAddress(peer, ip));
            local = forwarder.local();
            source.getReadSetter().set(this);
            sink.getWriteSetter().set(this);
            waitForRequest();
            source.resumeReads();
        }

        @Override
        public void handleEvent(Channel channel) {
            if (channel == source) {
                if (state == WAITING) {
                    readRequest();
                } else if (state == BUSY) {
                    readAhead();
                }
            } else if (channel == sink) {
                sink.suspendWrites();
                if (request != null) {
                    request.flushEnd();
                }
            }
        }

        // ---- the client's requests ----------------------------------------------------------------------

        private void waitForRequest() {
            state = WAITING;
            idle.start(this, thread);
        }

        /** The idle timeout (no request came) or the header timeout (a head did not come whole in time). */
        @Override
        void expire() {
            if (state == WAITING) {
                close();
            }
        }

        private void readRequest() {
            if (!partial) {
                cancel(); // the idle timeout; the header timeout runs on until the head is whole
            }
            if (!fill()) {
                return;
            }
            if (in == null) {
                idle.start(this, thread);
                return;
            }
            startNanos = System.nanoTime();
            startMillis = System.currentTimeMillis();
            int length = in.remaining();
            byte[] b = local.scratch(length);
            in.get(in.position(), b, 0, length);
            int used = parse(b, length);
            if (used == 0) {
                if (!partial) {
                    partial = true; // as Undertow's parse timeout: from the first read that leaves a head incomplete
                    headerTimeouts.start(this, thread);
                }
                return;
            }
            if (partial) {
                partial = false;
                cancel();
            }
            if (used < 0) {
                handOver();
                return;
            }
            route = shutdown ? null : handler.registry.lookup(host, uri); // the lookup ignores a query
            if (route == null) {
                handOver();
                return;
            }
            in.position(in.position() + used);
            if (!in.hasRemaining()) {
                local.recycle(in);
                in = null;
            }
            state = BUSY;
            inFlight.increment();
            taken.increment();
            Request r = new Request(RequestIds.next());
            request = r;
            prefix.field(RouterHandler.X_VCAP_REQUEST_ID, r.requestId);
            handler.responseDeadlines.start(r, thread);
            r.start(local);
        }

        /**
         * Reads what the client sent into {@link #in}; false if the connection ended (it is closed then).
         * Leaves {@link #in} null when nothing is there.
         */
        private boolean fill() {
            ByteBuffer b = in;
            if (b == null) {
                b = local.buffer();
            } else {
                b.compact();
            }
            int n;
            try {
                n = source.read(b);
            } catch (IOException e) {
                n = -1;
            }
            b.flip();
            in = b;
            if (n < 0) {
                Request r = request;
                if (r != null) {
                    r.clientGone = true;
                }
                close();
                return false;
            }
            if (!b.hasRemaining()) {
                local.recycle(b);
                in = null;
            }
            return true;
        }

        /** Bytes from the client while a request is in progress: a pipelined request, or its close. */
        private void readAhead() {
            if (!full() && fill() && full()) {
                source.suspendReads(); // read on once this request is done
            }
        }

        private boolean full() {
            return in != null && in.position() == 0 && in.limit() == in.capacity();
        }

        /**
         * Reads one request head from {@code b[0, length)} and writes the backend's head up to the router's
         * fields into {@link #prefix}.
         *
         * @return the head's length, 0 while it is incomplete (and may still fit), or -1 if it is not one for this
         *         lane (too large, or not plain)
         */
        private int parse(byte[] b, int length) {
            int end = headEnd(b, length);
            if (end == -1) {
                return length < maxHeadBytes && length < in.capacity() ? 0 : -1;
            }
            if (end < 0) {
                return -1;
            }
            if (end > maxHeadBytes) {
                return -1;
            }
            int pos;
            if (ResponseHead.regionEquals(b, 0, GET)) {
                head = false;
                pos = GET.length;
            } else if (ResponseHead.regionEquals(b, 0, HEAD)) {
                head = true;
                pos = HEAD.length;
            } else {
                return -1;
            }
            int targetStart = pos;
            if (b[pos] != '/') {
                return -1;
            }
            while (TARGET[b[pos] & 0xff]) {
                pos++;
            }
            int targetEnd = pos;
            for (byte c : HTTP_11) {
                if (b[pos++] != c) {
                    return -1;
                }
            }
            prefix.clear();
            prefix.put(b, 0, pos);
            int hostStart = -1;
            int hostEnd = -1;
            StringBuilder xff = null;
            String proto = null;
            referer = null;
            userAgent = null;
            closeAfter = false;
            boolean requestStart = false;
            while (b[pos] != '\r') {
                int nameStart = pos;
                while (TCHAR[b[pos] & 0xff]) {
                    pos++;
                }
                int nameLength = pos - nameStart;
                if (nameLength == 0 || b[pos] != ':') {
                    return -1;
                }
                pos++;
                while (b[pos] == ' ' || b[pos] == '\t') {
                    pos++;
                }
                int valueStart = pos;
                int c;
                while ((c = b[pos] & 0xff) >= 0x20 && c < 0x7f || c == '\t') {
                    pos++;
                }
                if (c != '\r' || b[pos + 1] != '\n') {
                    return -1;
                }
                int lineEnd = pos + 2;
                int valueEnd = pos;
                while (valueEnd > valueStart && (b[valueEnd - 1] == ' ' || b[valueEnd - 1] == '\t')) {
                    valueEnd--;
                }
                pos = lineEnd;
                boolean copy = true;
                switch (nameLength) {
                    case 2 -> {
                        if (is(b, nameStart, nameLength, "te")) {
                            return -1;
                        }
                    }
                    case 4 -> {
                        if (is(b, nameStart, nameLength, "host")) {
                            if (hostStart >= 0 || valueEnd == valueStart) {
                                return -1;
                            }
                            for (int i = valueStart; i < valueEnd; i++) {
                                if (!HOST[b[i] & 0xff]) {
                                    return -1;
                                }
                            }
                            hostStart = valueStart;
                            hostEnd = valueEnd;
                        }
                    }
                    case 6 -> {
                        if (is(b, nameStart, nameLength, "expect")
                                || is(b, nameStart, nameLength, "cookie") && contains(b, valueStart, valueEnd, VCAP_ID)) {
                            return -1;
                        }
                    }
                    case 7 -> {
                        if (is(b, nameStart, nameLength, "trailer") || is(b, nameStart, nameLength, "upgrade")) {
                            return -1;
                        }
                        if (is(b, nameStart, nameLength, "referer") && referer == null) {
                            referer = latin1(b, valueStart, valueEnd);
                        }
                    }
                    case 10 -> {
                        if (is(b, nameStart, nameLength, "keep-alive")) {
                            return -1;
                        }
                        if (is(b, nameStart, nameLength, "connection")) {
                            int options = ResponseHead.connectionOptions(b, valueStart, valueEnd, null);
                            if ((options & ResponseHead.OTHER) != 0) {
                                return -1; // it names fields to drop: Undertow's path does that
                            }
                            closeAfter |= (options & ResponseHead.CLOSE) != 0;
                            copy = false;
                        } else if (is(b, nameStart, nameLength, "user-agent") && userAgent == null) {
                            if (valueEnd - valueStart == healthcheckUserAgent.length
                                    && ResponseHead.regionEquals(b, valueStart, healthcheckUserAgent)) {
                                return -1;
                            }
                            userAgent = latin1(b, valueStart, valueEnd);
                        }
                    }
                    case 12 -> {
                        if (is(b, nameStart, nameLength, "x-vcap-trace")) {
                            return -1;
                        }
                    }
                    case 14 -> {
                        if (is(b, nameStart, nameLength, "content-length")) {
                            return -1;
                        }
                    }
                    case 15 -> {
                        if (is(b, nameStart, nameLength, "x-forwarded-for")) {
                            copy = false;
                            if (valueEnd > valueStart) {
                                if (xff == null) {
                                    xff = new StringBuilder(64);
                                }
                                xff.append(latin1(b, valueStart, valueEnd)).append(", ");
                            }
                        } else if (is(b, nameStart, nameLength, "x-request-start")) {
                            requestStart = true;
                        } else if (is(b, nameStart, nameLength, "x-cf-instanceid")) {
                            return -1;
                        }
                    }
                    case 17 -> {
                        if (is(b, nameStart, nameLength, "transfer-encoding")) {
                            return -1;
                        }
                        if (is(b, nameStart, nameLength, "x-forwarded-proto")) {
                            copy = false;
                            if (proto == null) {
                                proto = latin1(b, valueStart, valueEnd);
                            }
                        } else if (is(b, nameStart, nameLength, "x-vcap-request-id")) {
                            copy = false;
                        }
                    }
                    case 18 -> {
                        if (is(b, nameStart, nameLength, "x-cf-applicationid")
                                || is(b, nameStart, nameLength, "x-cf-instanceindex")) {
                            return -1;
                        }
                    }
                    default -> {
                        if (nameLength > 6 && is(b, nameStart, 6, "proxy-")) {
                            return -1;
                        }
                    }
                }
                if (copy) {
                    prefix.put(b, nameStart, lineEnd - nameStart);
                }
            }
            if (hostStart < 0 || pos != end - 2) {
                return -1;
            }
            host = latin1(b, hostStart, hostEnd);
            uri = latin1(b, targetStart, targetEnd);
            forwardedFor = xff == null ? address.ip() : xff.append(address.ip()).toString();
            forwardedProto = proto != null ? proto : "http";
            if (!requestStart) {
                prefix.field(RouterHandler.X_REQUEST_START, startMillis);
            }
            prefix.field(Headers.X_FORWARDED_FOR, forwardedFor);
            prefix.field(Headers.X_FORWARDED_PROTO, forwardedProto);
            return end;
        }

        /**
         * Hands the connection to Undertow with the bytes it has not used, which Undertow reads first (under
         * the request head watch, as if they had just arrived).
         */
        private void handOver() {
            cancel();
            state = HANDED_OVER;
            source.getReadSetter().set(null);
            sink.getWriteSetter().set(null);
            source.suspendReads();
            ByteBuffer rest = in;
            in = null;
            if (rest != null) {
                byte[] bytes = new byte[rest.remaining()];
                rest.get(bytes);
                local.recycle(rest);
                PushBackStreamSourceConduit pushBack = new PushBackStreamSourceConduit(source.getConduit());
                pushBack.pushBack(Buffers.pooledWrapper(ByteBuffer.wrap(bytes)));
                source.setConduit(pushBack);
            }
            undertow.handleEvent(connection);
        }

        /** The request is over (its response written, or cut): released and reported; the next one is read. */
        private void requestDone() {
            endRequest();
            if (closeAfter) {
                close();
            } else if (in != null) {
                source.resumeReads();
                readRequest(); // a pipelined request
            } else {
                waitForRequest();
                source.resumeReads();
            }
        }

        private void endRequest() {
            Request r = request;
            if (r != null) {
                request = null;
                r.finish();
                inFlight.decrement();
            }
        }

        /** Closes the client connection, and ends the request in progress. */
        private void close() {
            if (state == CLOSED) {
                return;
            }
            state = CLOSED;
            cancel();
            endRequest();
            if (in != null) {
                local.recycle(in);
                in = null;
            }
            IoUtils.safeClose(connection);
        }

        /**
         * A request of the lane: the forwarder's attempts, retries and relaying, with this connection as its
         * client side. The response head is written from the backend's bytes, the body relayed as it came
         * ({@code Content-Length}) or as chunks (chunked, or until the backend closes).
         */
        private final class Request extends ForwardedRequest {
            /** Bytes that go to the client before more of the body: the head, chunk framing, the last chunk. */
            private ByteBuffer pending;
            private boolean framed;
            /** Data bytes of the current chunk still to write. */
            private int chunkLeft;
            private boolean ended;
            private int status;
            private long bodyBytes;
            private String routerError = "";

            Request(String requestId) {
                super(FastLane.this.handler, Client.this.route, Client.this.host, requestId, Client.this.startNanos,
                        Client.this.startMillis, address);
            }

            @Override
            void writeHead(RequestHead h) {
                h.clear();
                h.put(prefix.bytes(), 0, prefix.length());
                h.endpointFields(this);
            }

            @Override
            String requestLine() {
                return (head ? "HEAD " : "GET ") + uri;
            }

            @Override
            boolean headRequest() {
                return head;
            }

            @Override
            boolean idempotent() {
                return true;
            }

            @Override
            boolean responseStarted() {
                return pending != null; // the head, or the router's answer, is on its way
            }

            @Override
            StreamSinkChannel respond(ResponseHead h, byte[] bytes, int bodyMode) {
                status = h.status;
                framed = bodyMode == CHUNKED || bodyMode == UNTIL_CLOSE;
                HeadBuilder w = local.requestHead;
                w.clear();
                w.put(STATUS_LINES[h.status]);
                h.writeTo(bytes, w);
                if (!h.requestId) {
                    w.field(RouterHandler.X_VCAP_REQUEST_ID, requestId);
                }
                if (h.setCookie) {
                    HeaderMap added = new HeaderMap();
                    handler.sticky.onResponse(added, h.setCookies(bytes), served.instanceId(),
                            route.key().contextPath(), null);
                    HeaderValues cookies = added.get(Headers.SET_COOKIE);
                    for (int i = 0; cookies != null && i < cookies.size(); i++) {
                        w.field(Headers.SET_COOKIE, cookies.get(i));
                    }
                }
                if (!h.date) {
                    w.field(Headers.DATE, CLOCKS.get().date(System.currentTimeMillis()));
                }
                if (framed) {
                    w.put(CHUNKED_FIELD);
                }
                if (closeAfter) {
                    w.put(CONNECTION_CLOSE);
                }
                w.crlf();
                pend(w.bytes(), w.length());
                w.trim();
                return sink;
            }

            /** Puts {@code bytes[0, length)} after the pending bytes. */
            private void pend(byte[] bytes, int length) {
                ByteBuffer p = pending;
                if (p == null) {
                    p = local.buffer();
                    p.flip();
                }
                if (p.remaining() + length > p.capacity()) {
                    ByteBuffer larger = ByteBuffer.allocate(p.remaining() + length);
                    larger.put(p).flip();
                    if (p.isDirect()) {
                        local.recycle(p);
                    }
                    p = larger;
                }
                p.compact();
                p.put(bytes, 0, length).flip();
                pending = p;
            }

            /** Writes the pending bytes; true once none are left. */
            private boolean flushPending() throws IOException {
                ByteBuffer p = pending;
                while (p != null && p.hasRemaining()) {
                    if (sink.write(p) == 0) {
                        return false;
                    }
                }
                return true;
            }

            @Override
            int writeBody(ByteBuffer b) throws IOException {
                int before = b.position();
                if (!framed) {
                    ByteBuffer p = pending;
                    if (p != null && p.hasRemaining()) {
                        pair[0] = p; // the head and the body's first bytes in one write
                        pair[1] = b;
                        sink.write(pair, 0, 2);
                        if (p.hasRemaining()) {
                            return 0;
                        }
                    } else {
                        sink.write(b);
                    }
                    int n = b.position() - before;
                    bodyBytes += n;
                    return n;
                }
                if (!flushPending()) {
                    return 0;
                }
                if (chunkLeft == 0) {
                    chunkLeft = b.remaining();
                    byte[] sizeLine = (Integer.toHexString(chunkLeft) + "\r\n").getBytes(StandardCharsets.US_ASCII);
                    pend(sizeLine, sizeLine.length);
                    if (!flushPending()) {
                        return 0;
                    }
                }
                int limit = b.limit();
                b.limit(b.position() + Math.min(b.remaining(), chunkLeft));
                sink.write(b);
                b.limit(limit);
                int n = b.position() - before;
                chunkLeft -= n;
                bodyBytes += n;
                if (chunkLeft == 0) {
                    pend(CRLF, 2);
                    flushPending();
                }
                return n;
            }

            @Override
            void responseEnded() {
                if (framed) {
                    pend(LAST_CHUNK, LAST_CHUNK.length);
                }
                ended = true;
                sink.getWriteSetter().set(Client.this);
                flushEnd();
            }

            /** The response is relayed: its last bytes go out, then the connection's next request is read. */
            void flushEnd() {
                if (!ended) {
                    return;
                }
                boolean done;
                try {
                    done = flushPending();
                } catch (IOException e) {
                    clientGone = true;
                    close();
                    return;
                }
                if (!done) {
                    sink.resumeWrites();
                    return;
                }
                requestDone();
            }

            @Override
            void routerAnswer() {
                routerError = connectionLimit ? RouterErrors.CONNECTION_LIMIT : RouterErrors.ENDPOINT_FAILURE;
                status = connectionLimit ? 503 : 502;
                String fields = RouterHandler.X_VCAP_REQUEST_ID + ": " + requestId + "\r\nDate: "
                        + CLOCKS.get().date(System.currentTimeMillis()) + "\r\n"
                        + (closeAfter ? "Connection: close\r\n" : "");
                byte[] bytes = connectionLimit ? RouterErrors.rawConnectionLimit(host, fields)
                        : RouterErrors.rawEndpointFailure(fields);
                pend(bytes, bytes.length);
                ended = true;
                flushEnd();
            }

            @Override
            void closeClient() {
                close();
            }

            @Override
            void finish() {
                super.finish();
                ByteBuffer p = pending;
                if (p != null) {
                    pending = null;
                    if (p.isDirect()) {
                        local.recycle(p);
                    }
                }
            }

            @Override
            RequestRecord record() {
                Endpoint e = served;
                return new RequestRecord(host, startMillis, head ? "HEAD" : "GET", uri, "HTTP/1.1",
                        clientGone ? 499 : status, 0, bodyBytes, orEmpty(referer), orEmpty(userAgent),
                        address.ipAndPort(), servedAddress, forwardedFor, forwardedProto, requestId,
                        System.nanoTime() - startNanos, e == null ? "" : e.appId(),
                        e == null ? "" : e.instanceIndex(), e == null ? "" : e.instanceId(),
                        e == null ? "" : e.component(), routerError);
            }
        }
    }

    private static final byte[] CRLF = {'\r', '\n'};

    // ---- bytes ---------------------------------------------------------------------------------------------

    /**
     * The index just past the blank line that ends the head in {@code b[0, length)}; -1 while there is none, -2
     * at a bare LF (a line end the lane leaves to Undertow, which reads it).
     */
    private static int headEnd(byte[] b, int length) {
        for (int i = 0; i < length; i++) {
            if (b[i] == '\n') {
                if (i == 0 || b[i - 1] != '\r') {
                    return -2;
                }
                if (i >= 3 && b[i - 2] == '\n' && b[i - 3] == '\r') {
                    return i + 1;
                }
            }
        }
        return -1;
    }

    private static boolean contains(byte[] b, int from, int to, byte[] part) {
        for (int i = from; i + part.length <= to; i++) {
            if (ResponseHead.regionEquals(b, i, part)) {
                return true;
            }
        }
        return false;
    }

    private static boolean is(byte[] b, int from, int length, String lowerCase) {
        return ResponseHead.is(b, from, length, lowerCase);
    }

    private static String latin1(byte[] b, int from, int to) {
        return new String(b, from, to - from, StandardCharsets.ISO_8859_1);
    }
}
