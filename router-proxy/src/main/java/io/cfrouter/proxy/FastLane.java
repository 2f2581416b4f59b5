package io.cfrouter.proxy;

import io.cfrouter.core.Endpoint;
import io.cfrouter.core.RequestRecord;
import io.cfrouter.registry.EndpointIterator;
import io.cfrouter.registry.Route;
import io.cfrouter.registry.RouteEndpoint;
import io.undertow.util.DateUtils;
import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import io.undertow.util.StatusCodes;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.xnio.Buffers;
import org.xnio.ChannelListener;
import org.xnio.IoFuture;
import org.xnio.IoUtils;
import org.xnio.StreamConnection;
import org.xnio.XnioIoThread;
import org.xnio.conduits.ConduitStreamSinkChannel;
import org.xnio.conduits.ConduitStreamSourceChannel;
import org.xnio.conduits.PushBackStreamSourceConduit;
import org.xnio.channels.StreamSinkChannel;
import org.xnio.channels.StreamSourceChannel;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Date;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The router's own HTTP/1.1 server path for the common request: a keep-alive {@code GET} or {@code HEAD}
 * without a body, with one {@code Host}, whose head arrived whole. Such a request is read from the client
 * connection's bytes, checked and forwarded without Undertow's exchange, header maps or response conduits: its
 * head is parsed once, the backend's request head is the client's header lines as they came (minus the
 * ones the router sets) plus the router's, and the client's response head is the backend's kept lines plus
 * the router's. Attempts, retries, failure marks, the deadlines, the sticky cookie, the router's 502 and 503
 * and the request's record are as for the {@link ForwardedRequest}s of the Undertow path.
 *
 * <p>Everything else is handed to Undertow, with the bytes read so far, at a request boundary, and the
 * connection stays Undertow's from then on: a head that is incomplete after a read, any other method, a
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

    private static final Logger LOGGER = LogManager.getLogger();

    private static final byte[] GET = "GET ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] HEAD = "HEAD ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] HTTP_11 = " HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] VCAP_ID = StickySessions.VCAP_ID.getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CHUNKED = "Transfer-Encoding: chunked\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CONNECTION_CLOSE = "Connection: close\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] LAST_CHUNK = {'0', '\r', '\n', '\r', '\n'};
    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    /** Room in a relay buffer for a chunk's size line and its closing CRLF. */
    private static final int CHUNK_ROOM = 16;
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
    private final int maxHeadBytes;
    private final int maxAttempts;
    private final byte[] healthcheckUserAgent;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final LongAdder taken = new LongAdder();
    private volatile boolean shutdown;

    /**
     * @param handler the router's handler; it must have a forwarder and the registry's own lookup
     * @param undertow what takes a connection handed over (Undertow's open listener, with the watches)
     * @param idleTimeout how long a connection may wait for its next request
     */
    FastLane(RouterHandler handler, ChannelListener<StreamConnection> undertow, Duration idleTimeout) {
        if (!usable(handler)) {
            throw new IllegalArgumentException("the fast lane needs the forwarder and the registry's own lookup");
        }
        this.handler = handler;
        this.forwarder = handler.forwarder;
        this.undertow = undertow;
        this.idle = new Deadlines(idleTimeout);
        this.maxHeadBytes = handler.settings.maxRequestHeaderBytes();
        this.maxAttempts = handler.settings.maxAttempts();
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
        while (inFlight.get() > 0) {
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
    private static final int CONNECTING = 1;
    private static final int SENDING = 2;
    private static final int AWAITING = 3;
    private static final int RELAYING = 4;
    private static final int CLOSED = 5;
    private static final int HANDED_OVER = 6;

    // How the response body is framed by the backend.
    private static final int NO_BODY = 0;
    private static final int LENGTH = 1;
    private static final int CHUNKS = 2;
    private static final int UNTIL_CLOSE = 3;

    /**
     * One client connection while it is the lane's, and its request in progress. Every event of both its
     * connections comes to {@link #handleEvent} on its I/O thread: nothing is locked.
     */
    private final class Client extends Deadlines.Entry implements ChannelListener<Channel> {
        private final StreamConnection connection;
        private final ConduitStreamSourceChannel source;
        private final ConduitStreamSinkChannel sink;
        private final XnioIoThread thread;
        private Forwarder.Local local;
        private String ip;
        private String ipAndPort;
        private int state = WAITING;
        /** Bytes read from the client and not yet used, ready to read; null when there are none. */
        private ByteBuffer in;
        /** The backend's request head up to the endpoint's fields. */
        private final HeadBuilder prefix = new HeadBuilder();

        // The request.
        private boolean head;
        /** The client asked to close the connection after this request ({@code Connection: close}). */
        private boolean closeAfter;
        private String host;
        private String uri;
        private String referer;
        private String userAgent;
        private String forwardedFor;
        private String forwardedProto;
        private String requestId;
        private long startNanos;
        private long startMillis;
        private Route route;
        private EndpointIterator endpoints;
        private RouteEndpoint current;
        private Endpoint served;
        private String servedAddress;
        private int attempts;
        private boolean reused;
        private boolean fresh;
        private boolean retrySameFresh;
        private boolean markFailed;
        private boolean connectionLimit;
        private boolean timedOut;
        private Dial dial;

        // The backend connection and the response.
        private Forwarder.BackendSocket socket;
        private StreamSourceChannel fromBackend;
        private StreamSinkChannel toBackend;
        /** The request head on its way out, then the backend's bytes. */
        private ByteBuffer buffer;
        private ByteBuffer own;
        /** Bytes on their way to the client. */
        private ByteBuffer out;
        private int scanned;
        private int status;
        private int bodyMode;
        private long remaining;
        private RequestFraming.ChunkFraming chunks;
        private boolean reusable;
        private boolean bodyEnded;
        private long bodyBytes;
        private String routerError;

        Client(StreamConnection connection) {
            this.connection = connection;
            this.source = connection.getSourceChannel();
            this.sink = connection.getSinkChannel();
            this.thread = connection.getIoThread();
        }

        void start() {
            InetSocketAddress peer = connection.getPeerAddress(InetSocketAddress.class);
            ip = RouterHandler.clientIp(peer);
            ipAndPort = ProxiedRequest.clientAddress(peer, ip);
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
                } else if (state != CLOSED && state != HANDED_OVER) {
                    readAhead();
                }
            } else if (channel == sink) {
                sink.suspendWrites();
                if (state == RELAYING) {
                    relay();
                }
            } else if (channel == fromBackend) {
                if (state == AWAITING) {
                    readHead();
                } else if (state == RELAYING) {
                    relay();
                } else {
                    fromBackend.suspendReads();
                }
            } else if (channel == toBackend) {
                if (state == SENDING) {
                    send();
                } else {
                    toBackend.suspendWrites();
                }
            }
        }

        // ---- the client's requests ----------------------------------------------------------------------

        private void waitForRequest() {
            state = WAITING;
            idle.start(this, thread);
        }

        private void readRequest() {
            cancel();
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
            if (used <= 0) {
                handOver();
                return;
            }
            route = handler.registry.lookup(host, path());
            if (route == null || shutdown) {
                handOver();
                return;
            }
            in.position(in.position() + used);
            if (!in.hasRemaining()) {
                local.recycle(in);
                in = null;
            }
            begin();
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

        /** The path of {@link #uri}, without the query. */
        private String path() {
            int q = uri.indexOf('?');
            return q < 0 ? uri : uri.substring(0, q);
        }

        /**
         * Reads one request head from {@code b[0, length)} and writes the backend's head up to the router's
         * fields into {@link #prefix}.
         *
         * @return the head's length, 0 if it is incomplete, -1 if it is not one for this lane
         */
        private int parse(byte[] b, int length) {
            int end = headEnd(b, length);
            if (end < 0 || end > maxHeadBytes) {
                return -1;
            }
            int pos;
            if (startsWith(b, GET)) {
                head = false;
                pos = GET.length;
            } else if (startsWith(b, HEAD)) {
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
                            int options = connectionOptions(b, valueStart, valueEnd);
                            if (options < 0) {
                                return -1;
                            }
                            closeAfter |= options == 1;
                            copy = false;
                        }
                        if (is(b, nameStart, nameLength, "user-agent") && userAgent == null) {
                            if (valueEnd - valueStart == healthcheckUserAgent.length
                                    && equal(b, valueStart, healthcheckUserAgent)) {
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
            forwardedFor = xff == null ? ip : xff.append(ip).toString();
            forwardedProto = proto != null ? proto : "http";
            if (!requestStart) {
                prefix.field(RouterHandler.X_REQUEST_START, Long.toString(startMillis));
            }
            prefix.field(Headers.X_FORWARDED_FOR, forwardedFor);
            prefix.field(Headers.X_FORWARDED_PROTO, forwardedProto);
            return end;
        }

        /** The request was read and has a route: its attempts begin. */
        private void begin() {
            inFlight.incrementAndGet();
            taken.increment();
            requestId = RequestIds.next();
            prefix.field(RouterHandler.X_VCAP_REQUEST_ID, requestId);
            endpoints = route.iterator(null);
            current = null;
            served = null;
            servedAddress = "";
            attempts = 0;
            reused = fresh = retrySameFresh = markFailed = connectionLimit = timedOut = false;
            status = 0;
            bodyBytes = 0;
            routerError = "";
            handler.responseDeadlines.start(this, thread);
            attempt();
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

        // ---- attempts -----------------------------------------------------------------------------------

        private void attempt() {
            if (!nextEndpoint()) {
                giveUp();
                answer();
                return;
            }
            Forwarder.BackendSocket s = fresh ? null : local.take(servedAddress, startNanos);
            if (s != null) {
                reused = true;
                use(s);
            } else {
                reused = false;
                state = CONNECTING;
                dial = new Dial(local.pool(servedAddress, served));
                dial.open();
            }
        }

        /** Moves to the next endpoint to try (or the same one on a fresh connection); false when there is none. */
        private boolean nextEndpoint() {
            if (current != null) {
                if (retrySameFresh && !timedOut) {
                    retrySameFresh = false;
                    fresh = true;
                    return true;
                }
                if (markFailed) {
                    current.markFailed();
                }
                current.release();
                current = null;
            }
            markFailed = false;
            fresh = false;
            if (timedOut || attempts >= maxAttempts) {
                return false;
            }
            RouteEndpoint next = endpoints.next();
            if (next == null) {
                connectionLimit = attempts == 0 && endpoints.connectionLimitReached();
                return false;
            }
            attempts++;
            current = next;
            served = next.endpoint();
            servedAddress = next.address();
            return true;
        }

        /** No further attempt: the endpoint is marked failed if the failure was its own, and released. */
        private void giveUp() {
            if (current != null) {
                if (markFailed) {
                    current.markFailed();
                }
                current.release();
                current = null;
            }
            markFailed = false;
        }

        /**
         * The attempt failed before a response head came ({@code answered}: the backend had started one). A
         * {@code GET} or {@code HEAD} is always tried again; a reused connection that failed before the
         * backend said anything is the keep-alive race, tried again on a fresh one to the same endpoint.
         */
        private void failed(boolean answered) {
            dropSocket();
            if (timedOut) {
                giveUp();
                answer();
                return;
            }
            if (reused && !fresh && !answered) {
                retrySameFresh = true;
                markFailed = false;
            } else {
                markFailed = true;
            }
            attempt();
        }

        private void use(Forwarder.BackendSocket s) {
            socket = s;
            fromBackend = s.connection.getSourceChannel();
            toBackend = s.connection.getSinkChannel();
            fromBackend.getReadSetter().set(this);
            toBackend.getWriteSetter().set(this);
            if (own == null) {
                own = local.buffer();
            }
            RequestHead h = local.requestHead;
            h.clear();
            h.put(prefix.bytes(), 0, prefix.length());
            h.endpointFields(served.instanceId().isEmpty() ? servedAddress : served.instanceId(), served.appId(),
                    served.instanceIndex());
            ByteBuffer b = own;
            b.clear();
            if (h.length() <= b.capacity()) {
                b.put(h.bytes(), 0, h.length()).flip();
            } else {
                b = ByteBuffer.wrap(java.util.Arrays.copyOf(h.bytes(), h.length()));
                h.trim();
            }
            buffer = b;
            state = SENDING;
            send();
        }

        private void send() {
            ByteBuffer b = buffer;
            try {
                while (b.hasRemaining()) {
                    if (toBackend.write(b) == 0) {
                        toBackend.resumeWrites();
                        return;
                    }
                }
            } catch (IOException e) {
                failed(false);
                return;
            }
            toBackend.suspendWrites();
            state = AWAITING;
            buffer = own;
            buffer.clear();
            scanned = 0;
            readHead();
        }

        // ---- the response -------------------------------------------------------------------------------

        private void readHead() {
            while (state == AWAITING) {
                ByteBuffer b = buffer;
                int n;
                try {
                    n = fromBackend.read(b);
                } catch (IOException e) {
                    n = -1;
                }
                if (n == 0) {
                    fromBackend.resumeReads();
                    return;
                }
                if (n < 0) {
                    failed(b.position() > 0);
                    return;
                }
                if (!parseHead() && state == AWAITING && !b.hasRemaining() && !grow()) {
                    badResponse("response head larger than " + ForwardedRequest.MAX_RESPONSE_HEAD + " bytes");
                    return;
                }
            }
        }

        /** Looks for a whole head in the buffer; true once one was handled (relayed or refused). */
        private boolean parseHead() {
            while (true) {
                int length = buffer.position();
                byte[] s = local.scratch(length);
                buffer.get(0, s, 0, length);
                int end = ResponseHead.end(s, scanned, length);
                if (end < 0) {
                    scanned = Math.max(0, length - 2);
                    return false;
                }
                ResponseHead h = local.responseHead;
                if (!h.parse(s, end)) {
                    badResponse(h.problem);
                    return true;
                }
                if (h.status >= 200) {
                    onHead(h, s, end, length);
                    return true;
                }
                if (h.status == 101) {
                    badResponse("101 to a request that did not ask to upgrade");
                    return true;
                }
                buffer.flip().position(end); // an interim response: not relayed; the final one follows
                buffer.compact();
                scanned = 0;
            }
        }

        private boolean grow() {
            if (buffer.capacity() >= ForwardedRequest.MAX_RESPONSE_HEAD) {
                return false;
            }
            ByteBuffer larger = ByteBuffer.allocate(Math.min(ForwardedRequest.MAX_RESPONSE_HEAD, 4 * buffer.capacity()));
            buffer.flip();
            larger.put(buffer);
            buffer = larger;
            return true;
        }

        private void badResponse(String problem) {
            LOGGER.debug("Invalid response from {} to {} {}: {}", servedAddress, head ? "HEAD" : "GET", uri, problem);
            reused = false; // the endpoint's fault, whatever connection it came on
            failed(true);
        }

        private void onHead(ResponseHead h, byte[] s, int end, int length) {
            cancel(); // the deadline for the response head is met
            status = h.status;
            reusable = !h.close;
            if (head || h.status == 204 || h.status == 304 || h.contentLength == 0) {
                bodyMode = NO_BODY;
            } else if (h.chunked) {
                bodyMode = CHUNKS;
                chunks = new RequestFraming.ChunkFraming();
            } else if (h.contentLength > 0) {
                bodyMode = LENGTH;
                remaining = h.contentLength;
            } else {
                bodyMode = UNTIL_CLOSE;
                reusable = false;
            }
            HeadBuilder w = local.requestHead;
            w.clear();
            w.put(STATUS_LINES[h.status]);
            h.writeTo(s, w);
            if (!h.requestId) {
                w.field(RouterHandler.X_VCAP_REQUEST_ID, requestId);
            }
            if (h.setCookie) {
                HeaderMap added = new HeaderMap();
                handler.sticky.onResponse(added, h.setCookies(s), served.instanceId(), route.key().contextPath(), null);
                HeaderValues cookies = added.get(Headers.SET_COOKIE);
                for (int i = 0; cookies != null && i < cookies.size(); i++) {
                    w.field(Headers.SET_COOKIE, cookies.get(i));
                }
            }
            if (!h.date) {
                w.field(Headers.DATE, CLOCKS.get().date(System.currentTimeMillis()));
            }
            if (bodyMode == CHUNKS || bodyMode == UNTIL_CLOSE) {
                w.put(CHUNKED);
            }
            if (closeAfter) {
                w.put(CONNECTION_CLOSE);
            }
            w.crlf();
            out = local.buffer();
            if (w.length() > out.capacity()) {
                local.recycle(out);
                out = ByteBuffer.allocate(w.length() + Forwarder.BUFFER_SIZE);
            }
            out.put(w.bytes(), 0, w.length());
            w.trim();
            buffer.flip().position(end);
            if (buffer != own) {
                local.recycle(own); // a grown buffer: it holds the body's first bytes, and stays for this response
                own = buffer;
            }
            bodyEnded = bodyMode == NO_BODY;
            if (bodyMode == LENGTH) {
                int n = (int) Math.min(remaining, Math.min(own.remaining(), out.remaining()));
                out.put(out.position(), own, own.position(), n);
                out.position(out.position() + n);
                own.position(own.position() + n);
                remaining -= n;
                bodyBytes += n;
                bodyEnded = remaining == 0;
            }
            out.flip();
            state = RELAYING;
            relay();
        }

        /** Backend body to client, until the body ends or one side must wait. */
        private void relay() {
            while (state == RELAYING) {
                if (out.hasRemaining()) {
                    try {
                        sink.write(out);
                    } catch (IOException e) {
                        clientGone();
                        return;
                    }
                    if (out.hasRemaining()) {
                        if (fromBackend != null) {
                            fromBackend.suspendReads();
                        }
                        sink.resumeWrites();
                        return;
                    }
                }
                if (bodyEnded) {
                    responseDone();
                    return;
                }
                out.clear();
                int n = bodyMode == LENGTH ? readLength() : readFramed();
                if (n < 0) {
                    return; // the body broke off: all is closed
                }
                out.flip();
                if (n == 0) {
                    fromBackend.resumeReads();
                    return;
                }
            }
        }

        /** Body bytes of a {@code Content-Length} body into {@link #out}: their number, 0 to wait, -1 on failure. */
        private int readLength() {
            int n;
            if (own.hasRemaining()) {
                n = (int) Math.min(remaining, Math.min(own.remaining(), out.remaining()));
                out.put(out.position(), own, own.position(), n);
                out.position(n);
                own.position(own.position() + n);
            } else {
                out.limit((int) Math.min(out.capacity(), remaining));
                try {
                    n = fromBackend.read(out);
                } catch (IOException e) {
                    n = -1;
                }
                if (n < 0) {
                    bodyFailed();
                    return -1;
                }
            }
            remaining -= n;
            bodyBytes += n;
            bodyEnded = remaining == 0;
            return n;
        }

        /**
         * The next piece of a chunked or close-delimited body into {@link #out}, as one chunk (the last one
         * too, at the body's end): its size, 0 to wait, -1 on failure.
         */
        private int readFramed() {
            while (true) {
                if (!own.hasRemaining()) {
                    own.clear();
                    int n;
                    try {
                        n = fromBackend.read(own);
                    } catch (IOException e) {
                        n = -1;
                    }
                    own.flip();
                    if (n == 0) {
                        return 0;
                    }
                    if (n < 0) {
                        if (bodyMode == UNTIL_CLOSE) {
                            out.put(LAST_CHUNK);
                            bodyEnded = true;
                            return LAST_CHUNK.length;
                        }
                        bodyFailed();
                        return -1;
                    }
                }
                int available;
                if (bodyMode == CHUNKS) {
                    try {
                        available = chunks.data(own);
                    } catch (RequestFraming.MalformedChunksException e) {
                        LOGGER.debug("Malformed chunked response from {}: {}", servedAddress, e.getMessage());
                        bodyFailed();
                        return -1;
                    }
                    if (available < 0) {
                        out.put(LAST_CHUNK);
                        bodyEnded = true;
                        if (own.hasRemaining()) {
                            reusable = false; // bytes after the response
                        }
                        return LAST_CHUNK.length;
                    }
                } else {
                    available = own.remaining();
                }
                if (available == 0) {
                    continue;
                }
                int n = Math.min(available, out.capacity() - CHUNK_ROOM - 2);
                int start = CHUNK_ROOM - 2;
                out.position(CHUNK_ROOM);
                out.put(out.position(), own, own.position(), n);
                own.position(own.position() + n);
                if (bodyMode == CHUNKS) {
                    chunks.consumed(n);
                }
                out.position(CHUNK_ROOM + n);
                out.put((byte) '\r').put((byte) '\n');
                out.put(start, (byte) '\r').put(start + 1, (byte) '\n');
                for (int size = n; size > 0; size >>>= 4) {
                    out.put(--start, HEX[size & 0xf]);
                }
                int limit = out.position();
                out.position(start).limit(limit);
                out.compact(); // the chunk from index 0, ready for the caller's flip
                bodyBytes += n;
                return n;
            }
        }

        /** The whole response went out: the backend connection goes back to its pool if it can be reused. */
        private void responseDone() {
            Forwarder.BackendSocket s = socket;
            if (s != null) {
                socket = null;
                fromBackend = null;
                toBackend = null;
                if (reusable && !own.hasRemaining()) { // bytes after the response: no agreement on its framing
                    s.pool.release(s);
                } else {
                    s.close();
                }
            }
            end(false);
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

        /** Every attempt failed, or none could be made: the router's 503 or 502, then the next request. */
        private void answer() {
            cancel();
            routerError = connectionLimit ? "connection_limit_reached" : "endpoint_failure";
            String fields = RouterHandler.X_VCAP_REQUEST_ID + ": " + requestId + "\r\nDate: "
                    + CLOCKS.get().date(System.currentTimeMillis()) + "\r\n" + (closeAfter ? "Connection: close\r\n" : "");
            byte[] bytes = connectionLimit ? RouterErrors.rawConnectionLimit(host, fields)
                    : RouterErrors.rawEndpointFailure(fields);
            status = connectionLimit ? 503 : 502;
            out = ByteBuffer.wrap(bytes);
            bodyMode = NO_BODY;
            bodyEnded = true;
            reusable = false;
            state = RELAYING;
            relay();
        }

        /** The backend's body broke off: the endpoint is marked, and the client connection closes on the cut. */
        private void bodyFailed() {
            if (current != null) {
                current.markFailed();
            }
            end(false);
            close();
        }

        private void clientGone() {
            end(true);
            close();
        }

        /** The response deadline (waiting for a response head), or the idle one (waiting for a request). */
        @Override
        void expire() {
            if (state == WAITING) {
                close();
            } else if (state == CONNECTING || state == SENDING || state == AWAITING) {
                timedOut = true;
                abortAttempt();
                giveUp();
                answer();
            }
        }

        /** Ends the attempt in progress, whatever it is doing. */
        private void abortAttempt() {
            Dial d = dial;
            if (d != null) {
                dial = null;
                d.abandon();
            }
            dropSocket();
        }

        private void dropSocket() {
            Forwarder.BackendSocket s = socket;
            if (s != null) {
                socket = null;
                fromBackend.getReadSetter().set(null);
                toBackend.getWriteSetter().set(null);
                fromBackend = null;
                toBackend = null;
                s.close();
            }
        }

        /** The request is over (answered, cut, or its client gone): released, counted and reported. */
        private void end(boolean gone) {
            cancel();
            abortAttempt();
            if (current != null) {
                current.release();
                current = null;
            }
            if (own != null) {
                if (own.isDirect()) {
                    local.recycle(own);
                }
                own = null;
            }
            if (out != null) {
                if (out.isDirect()) {
                    local.recycle(out);
                }
                out = null;
            }
            state = WAITING;
            inFlight.decrementAndGet();
            Endpoint e = served;
            handler.report(new RequestRecord(host, startMillis, head ? "HEAD" : "GET", uri, "HTTP/1.1",
                    gone ? 499 : status, 0, bodyBytes, ProxiedRequest.orEmpty(referer),
                    ProxiedRequest.orEmpty(userAgent), ipAndPort, servedAddress, forwardedFor, forwardedProto,
                    requestId, System.nanoTime() - startNanos, e == null ? "" : e.appId(),
                    e == null ? "" : e.instanceIndex(), e == null ? "" : e.instanceId(),
                    e == null ? "" : e.component(), routerError));
        }

        /** Closes the client connection, and whatever the request still holds. */
        private void close() {
            if (state == CLOSED) {
                return;
            }
            if (state != WAITING) {
                end(true);
            }
            cancel();
            state = CLOSED;
            if (in != null) {
                local.recycle(in);
                in = null;
            }
            IoUtils.safeClose(connection);
        }

        /** One connection attempt to a new backend connection, bounded by {@code endpoint_dial_timeout}. */
        private final class Dial extends Deadlines.Entry implements IoFuture.Notifier<StreamConnection, Void> {
            private final Forwarder.Pool pool;
            private IoFuture<StreamConnection> future;

            Dial(Forwarder.Pool pool) {
                this.pool = pool;
            }

            void open() {
                handler.dialDeadlines.start(this, thread);
                future = thread.openStreamConnection(pool.address, null, Forwarder.OPTIONS);
                future.addNotifier(this, null);
            }

            @Override
            void expire() {
                future.cancel();
            }

            void abandon() {
                cancel();
                future.cancel();
            }

            @Override
            public void notify(IoFuture<? extends StreamConnection> result, Void attachment) {
                if (Thread.currentThread() != thread) {
                    thread.execute(() -> notify(result, attachment));
                    return;
                }
                boolean wanted = dial == this && state == CONNECTING;
                if (wanted) {
                    dial = null;
                    cancel();
                }
                StreamConnection c = null;
                if (result.getStatus() == IoFuture.Status.DONE) {
                    try {
                        c = result.get();
                    } catch (IOException e) {
                        c = null;
                    }
                }
                if (!wanted) {
                    IoUtils.safeClose(c);
                    return;
                }
                if (c != null) {
                    use(new Forwarder.BackendSocket(pool, c));
                    return;
                }
                markFailed = !timedOut;
                attempt();
            }
        }
    }

    // ---- bytes ---------------------------------------------------------------------------------------------

    /** The index just past the blank line that ends the head in {@code b[0, length)}, or -1. */
    private static int headEnd(byte[] b, int length) {
        for (int i = 3; i < length; i++) {
            if (b[i] == '\n' && b[i - 1] == '\r' && b[i - 2] == '\n' && b[i - 3] == '\r') {
                return i + 1;
            }
        }
        return -1;
    }

    /**
     * The options of a {@code Connection} value: 1 if it holds {@code close}, 0 if only {@code keep-alive} (or
     * nothing), -1 if it names anything else (fields the lane would have to drop: Undertow's path does that).
     */
    private static int connectionOptions(byte[] b, int from, int to) {
        int options = 0;
        int i = from;
        while (i <= to) {
            int comma = i;
            while (comma < to && b[comma] != ',') {
                comma++;
            }
            int s = i;
            int e = comma;
            while (s < e && (b[s] == ' ' || b[s] == '\t')) {
                s++;
            }
            while (e > s && (b[e - 1] == ' ' || b[e - 1] == '\t')) {
                e--;
            }
            if (is(b, s, e - s, "close")) {
                options = 1;
            } else if (e > s && !is(b, s, e - s, "keep-alive")) {
                return -1;
            }
            i = comma + 1;
        }
        return options;
    }

    private static boolean startsWith(byte[] b, byte[] prefix) {
        for (int i = 0; i < prefix.length; i++) {
            if (b[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private static boolean equal(byte[] b, int from, byte[] expected) {
        for (int i = 0; i < expected.length; i++) {
            if (b[from + i] != expected[i]) {
                return false;
            }
        }
        return true;
    }

    private static boolean contains(byte[] b, int from, int to, byte[] part) {
        for (int i = from; i + part.length <= to; i++) {
            if (equal(b, i, part)) {
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
