package io.cfrouter.proxy;

import io.cfrouter.registry.Route;
import io.undertow.io.IoCallback;
import io.undertow.io.Sender;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.protocol.http.HttpContinue;
import io.undertow.util.Headers;
import io.undertow.util.Methods;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.xnio.ChannelListener;
import org.xnio.IoFuture;
import org.xnio.IoUtils;
import org.xnio.StreamConnection;
import org.xnio.channels.StreamSinkChannel;
import org.xnio.channels.StreamSourceChannel;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channel;

/**
 * A request relayed by the pass-through {@link Forwarder}: its head is written straight from the exchange
 * into one buffer ({@link RequestHead}), its body streamed to the backend (re-chunked if it came chunked),
 * and the backend's response head parsed from the bytes into the exchange's response headers
 * ({@link ResponseHead}), its body streamed to the client (chunks decoded; Undertow frames the response for
 * the client). Every event of the request, on both connections, comes to {@link #handleEvent} on the
 * exchange's I/O thread, so nothing is locked and nothing is allocated per event.
 *
 * <p>Attempts, retries, the deadline for the response headers, failure marks and the record are
 * {@link ProxiedRequest}'s, as for Undertow's proxy. A request is retried only while none of its body has
 * been read from the client; a pooled connection that turns out closed (the keep-alive race) is retried on a
 * fresh connection to the same endpoint. A request with a body first checks, with a read, that the pooled
 * connection it takes is still open, as it could not be retried once its body is on the way.
 */
class ForwardedRequest extends ProxiedRequest implements ChannelListener<Channel> {

    private static final Logger LOGGER = LogManager.getLogger();

    /** The largest response head accepted from a backend; larger ones are a 502. */
    static final int MAX_RESPONSE_HEAD = 1 << 20;

    private static final int IDLE = 0;
    private static final int CONNECTING = 1;
    private static final int SENDING_HEAD = 2;
    private static final int AWAITING_HEAD = 3;
    private static final int RELAYING = 4;
    private static final int DONE = 5;

    static final int NO_BODY = 0;
    static final int LENGTH = 1;
    static final int CHUNKED = 2;
    static final int UNTIL_CLOSE = 3;

    private static final int NOT_UPLOADING = 0;
    private static final int UPLOADING = 1;
    private static final int UPLOADED = 2;
    private static final int UPLOAD_BROKEN = 3;

    /** Room before the chunk data of a re-chunked request body for its size line. */
    private static final int CHUNK_ROOM = 16;
    private static final byte[] LAST_CHUNK = {'0', '\r', '\n', '\r', '\n'};
    private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private Forwarder.Local local;
    private int state = IDLE;
    private Connecting connecting;
    private Forwarder.BackendSocket socket;
    private StreamSourceChannel fromBackend;
    private StreamSinkChannel toBackend;
    /** The request head on its way out, then the response as it comes in ({@code own}, or a larger one). */
    private ByteBuffer buffer;
    /** The thread's buffer this request holds until it ends. */
    private ByteBuffer own;
    /** Where the search for the end of the response head goes on. */
    private int scanned;

    private int bodyMode;
    private long remaining;
    private RequestFraming.ChunkFraming chunks;
    private boolean reusable;
    private StreamSinkChannel toClient;

    private int upload = NOT_UPLOADING;
    /** Body bytes were read from the client: the request can no longer be retried. */
    private boolean bodyRead;
    private boolean lastUploadBytes;
    private boolean chunkedUpload;
    private StreamSourceChannel fromClient;
    private ByteBuffer up;

    ForwardedRequest(RouterHandler handler, HttpServerExchange exchange, Route route, String host, String requestId,
                     String stickyInstance, long startNanos, long startMillis) {
        super(handler, exchange, route, host, requestId, stickyInstance, startNanos, startMillis, false);
    }

    /** A bodiless request of the router's own path ({@link FastLane}): no exchange; the subclass is the client side. */
    ForwardedRequest(RouterHandler handler, Route route, String host, String requestId, long startNanos,
                     long startMillis, ClientAddress client) {
        super(handler, null, route, host, requestId, null, startNanos, startMillis, false, true, client);
    }

    /** Runs on the exchange's I/O thread, after the handler returned. */
    void start(Forwarder.Local l) {
        local = l;
        if (state == IDLE && !timedOut) {
            attempt();
        }
    }

    // ---- attempts -------------------------------------------------------------------------------------

    private void attempt() {
        if (next() == null) {
            giveUp();
            answer();
            return;
        }
        Forwarder.BackendSocket s = freshConnection ? null : local.take(servedAddress, startNanos);
        // A body cannot be sent twice: for a request with one, a pooled connection the backend has already
        // closed (its FIN here but not yet seen) is found now, with a read, rather than by a failed attempt.
        while (s != null && !bodiless && !s.isAlive()) {
            s = local.take(servedAddress, startNanos);
        }
        if (s != null) {
            backendReused = true;
            use(s);
        } else {
            backendReused = false;
            state = CONNECTING;
            connecting = new Connecting(local.pool(servedAddress, served));
            connecting.open();
        }
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
        RequestHead head = local.requestHead;
        writeHead(head);
        ByteBuffer b = own;
        b.clear();
        if (head.length() <= b.capacity()) {
            b.put(head.bytes(), 0, head.length()).flip();
        } else {
            b = ByteBuffer.wrap(java.util.Arrays.copyOf(head.bytes(), head.length()));
            head.trim();
        }
        buffer = b;
        state = SENDING_HEAD;
        sendHead();
    }

    /** The failure just recorded ends this attempt: another one, or the router's answer. */
    private void retryOrGiveUp() {
        stopUpload();
        if (!bodyRead && retryable()) {
            state = IDLE;
            attempt();
            return;
        }
        giveUp();
        answer();
    }

    /** No (more) attempts: 502 or 503, or, once the response has started, the client connection closes. */
    private void answer() {
        state = DONE;
        if (!responseStarted()) {
            routerAnswer();
        } else {
            closeClient();
        }
    }

    // ---- the client side: the exchange's, unless a subclass serves the client itself --------------------

    /** Writes the backend's request head for the current attempt. */
    void writeHead(RequestHead head) {
        head.write(this);
    }

    /** {@code METHOD uri}, for log lines. */
    String requestLine() {
        return exchange.getRequestMethod() + " " + exchange.getRequestURI();
    }

    boolean headRequest() {
        return exchange.getRequestMethod().equals(Methods.HEAD);
    }

    boolean responseStarted() {
        return exchange.isResponseStarted();
    }

    /** Every attempt failed, or none could be made: the router's 503 or 502. */
    void routerAnswer() {
        handler.routerAnswer(this);
    }

    /**
     * The backend's response head arrived: it goes to the client (the contract's changes made); returns the
     * channel for the body, whose framing is {@code bodyMode}'s (none when it is {@link #NO_BODY}).
     */
    StreamSinkChannel respond(ResponseHead head, byte[] bytes, int bodyMode) {
        exchange.setStatusCode(head.status);
        head.addTo(bytes, exchange.getResponseHeaders());
        handler.adjustResponseHeaders(this, exchange.getResponseHeaders(), head.requestId, head.setCookie);
        return bodyMode == NO_BODY ? null : exchange.getResponseChannel();
    }

    /** Writes body bytes from {@code b} to the client: how many went (fewer than offered: wait to write). */
    int writeBody(ByteBuffer b) throws IOException {
        return toClient.write(b);
    }

    /** The whole response was relayed (the backend connection is already back in its pool or closed). */
    void responseEnded() {
        exchange.endExchange();
    }

    /** Closes the client's connection: the response broke off, or the client went away. */
    void closeClient() {
        IoUtils.safeClose(exchange.getConnection());
    }

    // ---- events ---------------------------------------------------------------------------------------

    @Override
    public void handleEvent(Channel channel) {
        if (channel == fromBackend) {
            if (state == AWAITING_HEAD) {
                readHead();
            } else if (state == RELAYING) {
                relay();
            } else {
                fromBackend.suspendReads(); // not now: resumed when due
            }
        } else if (channel == toBackend) {
            if (state == SENDING_HEAD) {
                sendHead();
            } else if (upload == UPLOADING) {
                pumpUpload();
            } else {
                toBackend.suspendWrites();
            }
        } else if (channel == fromClient) {
            if (upload == UPLOADING) {
                pumpUpload();
            } else {
                fromClient.suspendReads();
            }
        } else if (channel == toClient) {
            toClient.suspendWrites();
            if (state == RELAYING) {
                relay();
            }
        }
    }

    // ---- the request ----------------------------------------------------------------------------------

    private void sendHead() {
        ByteBuffer b = buffer;
        try {
            while (b.hasRemaining()) {
                if (toBackend.write(b) == 0) {
                    toBackend.resumeWrites();
                    return;
                }
            }
        } catch (IOException e) {
            sendFailed(); // nothing of the body is read yet: always worth another attempt
            dropSocket();
            retryOrGiveUp();
            return;
        }
        toBackend.suspendWrites();
        state = AWAITING_HEAD;
        buffer = own;
        buffer.clear();
        scanned = 0;
        if (!bodiless) {
            startUpload();
        }
        if (state == AWAITING_HEAD) {
            fromBackend.resumeReads();
        }
    }

    private void startUpload() {
        if (fromClient == null) {
            fromClient = exchange.getRequestChannel();
            if (fromClient == null) {
                return; // an extension took the body
            }
            fromClient.getReadSetter().set(this);
            chunkedUpload = exchange.getRequestHeaders().contains(Headers.TRANSFER_ENCODING);
            up = local.buffer();
            if (HttpContinue.requiresContinueResponse(exchange)) {
                HttpContinue.sendContinueResponse(exchange, ContinueSent.INSTANCE);
            }
        }
        up.clear().limit(0);
        lastUploadBytes = false;
        upload = UPLOADING;
        pumpUpload();
    }

    /** Client body to backend, until the client's body ends or one side must wait. */
    private void pumpUpload() {
        ByteBuffer b = up;
        while (upload == UPLOADING) {
            if (b.hasRemaining()) {
                try {
                    toBackend.write(b);
                } catch (IOException e) {
                    uploadBroke();
                    return;
                }
                if (b.hasRemaining()) {
                    fromClient.suspendReads();
                    toBackend.resumeWrites();
                    return;
                }
                if (lastUploadBytes) {
                    uploaded();
                    return;
                }
            }
            int n;
            try {
                n = readBody(b);
            } catch (IOException e) {
                clientFailed();
                return;
            }
            if (n == 0) {
                toBackend.suspendWrites();
                fromClient.resumeReads();
                return;
            }
            if (n < 0) {
                if (clientGone) {
                    clientFailed(); // the body ended before its Content-Length
                    return;
                }
                if (!chunkedUpload) {
                    uploaded();
                    return;
                }
                b.clear();
                b.put(LAST_CHUNK).flip();
                lastUploadBytes = true;
            } else {
                bodyRead = true;
            }
        }
    }

    /**
     * Reads the next piece of the client's body into {@code b}, ready to write: as it is, or as one chunk
     * ({@code size CRLF data CRLF}) for a chunked body, whose decoding Undertow has done and checked.
     */
    private int readBody(ByteBuffer b) throws IOException {
        b.clear();
        if (!chunkedUpload) {
            int n = fromClient.read(b);
            b.flip();
            return n;
        }
        b.position(CHUNK_ROOM).limit(b.capacity() - 2);
        int n = fromClient.read(b);
        if (n <= 0) {
            b.clear().limit(0);
            return n;
        }
        int end = b.position();
        b.limit(end + 2);
        b.put((byte) '\r').put((byte) '\n');
        int start = CHUNK_ROOM - 2;
        b.put(start, (byte) '\r').put(start + 1, (byte) '\n');
        for (int size = n; size > 0; size >>>= 4) {
            b.put(--start, HEX[size & 0xf]);
        }
        b.position(start);
        return n;
    }

    private void uploaded() {
        upload = UPLOADED;
        fromClient.suspendReads();
        toBackend.suspendWrites();
        try {
            toBackend.flush();
        } catch (IOException e) {
            uploadBroke();
        }
    }

    /**
     * Writing the body to the backend failed. What the backend says decides the outcome: it may have answered
     * already (413, say) and closed; if it did not, the read of its response fails in turn.
     */
    private void uploadBroke() {
        upload = UPLOAD_BROKEN;
        reusable = false;
        fromClient.suspendReads();
        toBackend.suspendWrites();
    }

    /** Stops reading the client's body for the current attempt (a retry starts it again if none was read). */
    private void stopUpload() {
        if (upload == UPLOADING) {
            fromClient.suspendReads();
            upload = bodyRead ? UPLOAD_BROKEN : NOT_UPLOADING;
        }
    }

    /** Reading the client's body failed: it went away, or its chunked framing was malformed. */
    private void clientFailed() {
        upload = UPLOAD_BROKEN;
        state = DONE;
        dropSocket(); // the backend has half a request: not the endpoint's fault, not reusable
        closeClient();
    }

    // ---- the response ---------------------------------------------------------------------------------

    private void readHead() {
        while (state == AWAITING_HEAD) {
            ByteBuffer b = buffer;
            int n;
            try {
                n = fromBackend.read(b);
            } catch (IOException e) {
                headFailed();
                return;
            }
            if (n == 0) {
                return; // reads stay resumed
            }
            if (n < 0) {
                headFailed();
                return;
            }
            if (!parseHead() && state == AWAITING_HEAD && !b.hasRemaining() && !grow()) {
                badResponse("response head larger than " + MAX_RESPONSE_HEAD + " bytes");
                return;
            }
        }
    }

    /** Looks for a whole head in the buffer; true once one was handled (relayed or refused). */
    private boolean parseHead() {
        while (true) {
            int length = buffer.position();
            byte[] s = local.scratch(length);
            buffer.flip();
            buffer.get(s, 0, length);
            buffer.limit(buffer.capacity());
            int end = ResponseHead.end(s, scanned, length);
            if (end < 0) {
                scanned = Math.max(0, length - 2);
                return false;
            }
            ResponseHead head = local.responseHead;
            if (!head.parse(s, end)) {
                badResponse(head.problem);
                return true;
            }
            if (head.status >= 200) {
                onHead(head, s, end, length);
                return true;
            }
            if (head.status == 101) {
                badResponse("101 to a request that did not ask to upgrade");
                return true;
            }
            // An interim response (100 Continue, 103 Early Hints): not relayed; the final one follows.
            buffer.flip().position(end);
            buffer.compact();
            scanned = 0;
        }
    }

    private boolean grow() {
        if (buffer.capacity() >= MAX_RESPONSE_HEAD) {
            return false;
        }
        ByteBuffer larger = ByteBuffer.allocate(Math.min(MAX_RESPONSE_HEAD, 4 * buffer.capacity()));
        buffer.flip();
        larger.put(buffer);
        buffer = larger;
        return true;
    }

    private void onHead(ResponseHead head, byte[] bytes, int end, int length) {
        onResponseHeaders(); // the deadline is met
        reusable = !head.close;
        if (headRequest() || head.status == 204 || head.status == 304) {
            bodyMode = NO_BODY;
        } else if (head.chunked) {
            bodyMode = CHUNKED;
            chunks = new RequestFraming.ChunkFraming();
        } else if (head.contentLength > 0) {
            bodyMode = LENGTH;
            remaining = head.contentLength;
        } else if (head.contentLength == 0) {
            bodyMode = NO_BODY;
        } else {
            bodyMode = UNTIL_CLOSE;
            reusable = false;
        }
        buffer.position(end).limit(length);
        state = RELAYING;
        toClient = respond(head, bytes, bodyMode);
        if (bodyMode == NO_BODY) {
            responseDone();
            return;
        }
        toClient.getWriteSetter().set(this);
        relay();
    }

    /** Backend body to client, until the body ends or one side must wait. */
    private void relay() {
        ByteBuffer b = buffer;
        while (state == RELAYING) {
            if (b.hasRemaining()) {
                int available;
                if (bodyMode == LENGTH) {
                    available = (int) Math.min(remaining, b.remaining());
                } else if (bodyMode == CHUNKED) {
                    try {
                        available = chunks.data(b);
                    } catch (RequestFraming.MalformedChunksException e) {
                        LOGGER.debug("Malformed chunked response from {}: {}", servedAddress, e.getMessage());
                        bodyFailed();
                        return;
                    }
                    if (available < 0) {
                        responseDone();
                        return;
                    }
                } else {
                    available = b.remaining();
                }
                if (available > 0) {
                    int limit = b.limit();
                    b.limit(b.position() + available);
                    int written;
                    try {
                        written = writeBody(b);
                    } catch (IOException e) {
                        b.limit(limit);
                        clientWriteFailed();
                        return;
                    }
                    b.limit(limit);
                    if (bodyMode == LENGTH) {
                        remaining -= written;
                        if (remaining == 0) {
                            responseDone();
                            return;
                        }
                    } else if (bodyMode == CHUNKED) {
                        chunks.consumed(written);
                    }
                    if (written < available) {
                        fromBackend.suspendReads();
                        toClient.resumeWrites();
                        return;
                    }
                    continue;
                }
            }
            b.compact();
            int n;
            try {
                n = fromBackend.read(b);
            } catch (IOException e) {
                b.flip();
                bodyFailed();
                return;
            }
            b.flip();
            if (n == 0) {
                fromBackend.resumeReads();
                return;
            }
            if (n < 0) {
                if (bodyMode == UNTIL_CLOSE) {
                    responseDone();
                } else {
                    bodyFailed();
                }
                return;
            }
        }
    }

    /** The whole response came: the connection goes back to its pool if both ways ended cleanly. */
    private void responseDone() {
        state = DONE;
        if (buffer.hasRemaining()) {
            reusable = false; // bytes after the response: the backend and the router disagree on framing
        }
        if (upload == UPLOADING) {
            stopUpload(); // the backend answered before the body's end: Undertow drains (or closes) the rest
            reusable = false;
        } else if (upload == UPLOAD_BROKEN) {
            reusable = false;
        }
        Forwarder.BackendSocket s = socket;
        socket = null;
        fromBackend = null;
        toBackend = null;
        if (reusable) {
            s.pool.release(s);
        } else {
            s.close();
        }
        releaseBuffers();
        if (toClient != null) {
            toClient.getWriteSetter().set(null);
        }
        responseEnded();
    }

    /** The connection failed (reset, closed) before a whole response head came. */
    private void headFailed() {
        if (buffer.position() > 0) {
            backendReused = false; // the backend had started an answer: not the keep-alive race
        }
        dropSocket();
        responseFailed();
        retryOrGiveUp();
    }

    /** The backend's response head is not one the router relays: 502 unless another attempt is made. */
    private void badResponse(String problem) {
        LOGGER.debug("Invalid response from {} to {}: {}", servedAddress, requestLine(), problem);
        dropSocket();
        backendReused = false; // the endpoint's fault, whatever connection it came on
        responseFailed();
        retryOrGiveUp();
    }

    /** The response body broke off: the endpoint is marked, and the client connection closes on the cut. */
    private void bodyFailed() {
        state = DONE;
        responseBodyFailed();
        stopUpload();
        dropSocket();
        closeClient();
    }

    private void clientWriteFailed() {
        state = DONE; // the client went away (ClientSideConduits noted it): not the endpoint's fault
        stopUpload();
        dropSocket();
        closeClient();
    }

    // ---- the end --------------------------------------------------------------------------------------

    /** The deadline for the response headers passed: the attempt ends, and the answer is 502. */
    @Override
    void expire() {
        if (headersReceived || state == DONE) {
            return;
        }
        timedOut = true;
        abort();
        answer();
    }

    @Override
    void finish() {
        if (state != DONE) {
            state = DONE;
            abort();
        }
        dropSocket();
        releaseBuffers();
        super.finish();
    }

    /** Ends the attempt in progress, whatever it is doing. */
    private void abort() {
        Connecting c = connecting;
        if (c != null) {
            connecting = null;
            c.abandon();
        }
        stopUpload();
        dropSocket();
    }

    /** Closes the attempt's connection, if any: it carries half an exchange. */
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

    private void releaseBuffers() {
        if (own != null) {
            local.recycle(own);
            own = null;
        }
        if (up != null) {
            local.recycle(up);
            up = null;
        }
    }

    /** One connection attempt to a new backend connection, bounded by {@code endpoint_dial_timeout}. */
    private final class Connecting extends Deadlines.Entry implements IoFuture.Notifier<StreamConnection, Void> {
        private final Forwarder.Pool pool;
        private IoFuture<StreamConnection> future;

        Connecting(Forwarder.Pool pool) {
            this.pool = pool;
        }

        void open() {
            handler.dialDeadlines.start(this, local.thread);
            future = local.thread.openStreamConnection(pool.address, null, Forwarder.OPTIONS);
            future.addNotifier(this, null);
        }

        /** The dial timeout: the attempt fails (through the notifier). */
        @Override
        void expire() {
            future.cancel();
        }

        /** The request no longer wants the connection. */
        void abandon() {
            cancel();
            future.cancel();
        }

        @Override
        public void notify(IoFuture<? extends StreamConnection> result, Void attachment) {
            if (Thread.currentThread() != local.thread) {
                local.thread.execute(() -> notify(result, attachment));
                return;
            }
            boolean wanted = connecting == this && state == CONNECTING;
            if (wanted) {
                connecting = null;
                cancel();
            }
            if (result.getStatus() == IoFuture.Status.DONE) {
                StreamConnection connection;
                try {
                    connection = result.get();
                } catch (IOException e) {
                    connection = null;
                }
                if (!wanted) {
                    IoUtils.safeClose(connection);
                    return;
                }
                if (connection != null) {
                    use(new Forwarder.BackendSocket(pool, connection));
                    return;
                }
            }
            if (wanted) {
                connectFailed();
                retryOrGiveUp();
            }
        }
    }

    /** Sending {@code 100 Continue}: only a failure matters, and the read of the body meets it too. */
    private static final class ContinueSent implements IoCallback {
        static final ContinueSent INSTANCE = new ContinueSent();

        @Override
        public void onComplete(HttpServerExchange exchange, Sender sender) {
        }

        @Override
        public void onException(HttpServerExchange exchange, Sender sender, IOException exception) {
            IoUtils.safeClose(exchange.getConnection());
        }
    }
}
