package io.cfrouter.proxy;

import io.cfrouter.core.Endpoint;
import io.cfrouter.core.PerThread;
import io.cfrouter.registry.RegistryEvent;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.SameThreadExecutor;
import org.xnio.ChannelListener;
import org.xnio.IoUtils;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.StreamConnection;
import org.xnio.XnioIoThread;
import org.xnio.channels.StreamSourceChannel;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The pass-through HTTP/1.1 forwarder: plain requests (everything but upgrades and {@code CONNECT}) go to
 * the backend as {@link ForwardedRequest}s, on keep-alive connections pooled per I/O thread and endpoint
 * address. Each I/O thread owns its pools ({@link Local}), so taking and returning a connection takes no lock;
 * a connection is only ever used on the thread that opened it. Buffers are kept per thread too (Undertow's
 * pool finds a thread's cache in a synchronised map on every allocation and release).
 *
 * <p>Idle connections close when the backend closes them (each idle connection waits for a read: end of
 * stream or unexpected bytes close it), after {@link #IDLE_TIMEOUT_NANOS} unused (checked when the address
 * is next used), when the endpoint leaves the routing table, and on {@link #close()}.
 */
final class Forwarder implements AutoCloseable {

    static final OptionMap OPTIONS = OptionMap.builder()
            .set(Options.TCP_NODELAY, true)
            .set(Options.KEEP_ALIVE, true)
            .getMap();
    /** Idle pooled connections older than this are closed rather than reused. */
    static final long IDLE_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(30);
    /** Idle connections kept per address and I/O thread; more are closed when they come back. */
    static final int MAX_IDLE = 256;
    /** The size of the forwarder's buffers (Undertow's default buffer size). */
    static final int BUFFER_SIZE = 16 * 1024;
    /** Free buffers kept per I/O thread. */
    static final int MAX_FREE_BUFFERS = 256;

    private final PerThread<Local> locals = PerThread.withInitial(this::newLocal);
    private final List<Local> all = new CopyOnWriteArrayList<>();

    /**
     * Starts forwarding {@code r} once the handler returns (the exchange is dispatched, so Undertow does not
     * end it), on the exchange's I/O thread.
     */
    void forward(ForwardedRequest r) {
        HttpServerExchange exchange = r.exchange;
        if (exchange.isInIoThread()) {
            Local local = locals.get();
            local.starting = r;
            exchange.dispatch(SameThreadExecutor.INSTANCE, local);
        } else {
            exchange.dispatch(exchange.getIoThread(), () -> r.start(locals.get()));
        }
    }

    /** The calling I/O thread's state (call on an I/O thread of the worker). */
    Local local() {
        return locals.get();
    }

    /** The calling I/O thread's state, on its first request ({@link #locals} asks on I/O threads only). */
    private Local newLocal() {
        Local local = new Local((XnioIoThread) Thread.currentThread());
        all.add(local);
        return local;
    }

    /** An endpoint left a route: its idle connections close, on each I/O thread. */
    void onRegistryEvent(RegistryEvent event) {
        RegistryEvent.Type type = event.type();
        if (type == RegistryEvent.Type.ENDPOINT_REMOVED || type == RegistryEvent.Type.ENDPOINT_PRUNED) {
            String address = event.endpoint().address();
            for (Local local : all) {
                onThread(local, () -> local.drop(address));
            }
        }
    }

    /** Addresses with a pool, over all I/O threads; for tests. Waits for each thread to count its own. */
    int poolCount() {
        int n = 0;
        for (Local local : all) {
            CompletableFuture<Integer> count = new CompletableFuture<>();
            local.thread.execute(() -> count.complete(local.pools.size()));
            try {
                n += count.get(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            } catch (ExecutionException | TimeoutException e) {
                throw new IllegalStateException(e);
            }
        }
        return n;
    }

    /** Closes the idle connections of every I/O thread; requests in flight finish on theirs. */
    @Override
    public void close() {
        for (Local local : all) {
            onThread(local, local::closeAll);
        }
    }

    /** Runs {@code task} on {@code local}'s thread; not once it stopped (its connections closed with it). */
    private static void onThread(Local local, Runnable task) {
        try {
            local.thread.execute(task);
        } catch (RejectedExecutionException e) {
            // the worker is shutting down
        }
    }

    /**
     * One I/O thread's state: its idle connections per endpoint address, and the scratch space its requests
     * use while they run (a request head is written and a response head parsed without a pause in between).
     * Confined to that thread. It is also the task that starts a dispatched request, so starting one
     * allocates nothing.
     */
    static final class Local implements Runnable {
        final XnioIoThread thread;
        final HashMap<String, Pool> pools = new HashMap<>();
        final RequestHead requestHead = new RequestHead();
        final ResponseHead responseHead = new ResponseHead();
        final ByteBuffer probe = ByteBuffer.allocate(1);
        /** Free direct buffers: a plain stack, as the thread is the only one to use it. */
        private final ArrayDeque<ByteBuffer> buffers = new ArrayDeque<>();
        private byte[] scratch = new byte[16 * 1024];
        ForwardedRequest starting;

        Local(XnioIoThread thread) {
            this.thread = thread;
        }

        @Override
        public void run() {
            ForwardedRequest r = starting;
            starting = null;
            r.start(this);
        }

        /** A cleared buffer of {@link #BUFFER_SIZE} bytes; give it back with {@link #recycle}. */
        ByteBuffer buffer() {
            ByteBuffer b = buffers.pollLast();
            return b == null ? ByteBuffer.allocateDirect(BUFFER_SIZE) : b.clear();
        }

        /** Takes back a buffer of {@link #buffer()}'s, when called on this thread (else the GC frees it). */
        void recycle(ByteBuffer b) {
            if (Thread.currentThread() == thread && buffers.size() < MAX_FREE_BUFFERS) {
                buffers.addLast(b);
            }
        }

        /** The scratch array, at least {@code size} bytes; its content is the caller's until it returns. */
        byte[] scratch(int size) {
            if (scratch.length < size) {
                scratch = new byte[Math.max(size, 2 * scratch.length)];
            }
            return scratch;
        }

        /** The pool for {@code endpoint}'s address, made when first needed. */
        Pool pool(String address, Endpoint endpoint) {
            Pool pool = pools.get(address);
            if (pool == null) {
                pool = new Pool(this, new InetSocketAddress(endpoint.host(), endpoint.port()));
                pools.put(address, pool);
            }
            return pool;
        }

        /** An idle connection to {@code address} that is still open, or null. */
        BackendSocket take(String address, long nowNanos) {
            Pool pool = pools.get(address);
            return pool == null ? null : pool.take(nowNanos);
        }

        void drop(String address) {
            Pool pool = pools.remove(address);
            if (pool != null) {
                pool.closeAll();
            }
        }

        void closeAll() {
            for (Pool pool : pools.values()) {
                pool.closeAll();
            }
            pools.clear();
        }
    }

    /** The idle connections to one endpoint address on one I/O thread, the most recently used last. */
    static final class Pool {
        final Local local;
        final InetSocketAddress address;
        private final ArrayDeque<BackendSocket> idle = new ArrayDeque<>();
        /** The endpoint left the routing table: connections coming back are closed. */
        private boolean closed;

        Pool(Local local, InetSocketAddress address) {
            this.local = local;
            this.address = address;
        }

        BackendSocket take(long nowNanos) {
            BackendSocket s;
            while ((s = idle.peekFirst()) != null && nowNanos - s.idleSince > IDLE_TIMEOUT_NANOS) {
                idle.pollFirst();
                s.close();
            }
            while ((s = idle.pollLast()) != null) {
                if (s.connection.isOpen()) {
                    s.idle = false;
                    return s;
                }
            }
            return null;
        }

        /** Takes {@code s} back after a complete exchange; it waits for a read that would mean it closed. */
        void release(BackendSocket s) {
            if (closed || !s.connection.isOpen() || idle.size() >= MAX_IDLE) {
                s.close();
                return;
            }
            s.idle = true;
            s.idleSince = System.nanoTime();
            s.connection.getSinkChannel().getWriteSetter().set(null);
            s.connection.getSinkChannel().suspendWrites();
            s.connection.getSourceChannel().getReadSetter().set(s);
            s.connection.getSourceChannel().resumeReads();
            idle.addLast(s);
        }

        void remove(BackendSocket s) {
            idle.remove(s);
        }

        void closeAll() {
            closed = true;
            BackendSocket s;
            while ((s = idle.pollFirst()) != null) {
                s.close();
            }
        }
    }

    /** A backend connection of a {@link Pool}: in use by one request at a time, or idle in its pool. */
    static final class BackendSocket implements ChannelListener<StreamSourceChannel> {
        final StreamConnection connection;
        final Pool pool;
        boolean idle;
        long idleSince;

        BackendSocket(Pool pool, StreamConnection connection) {
            this.pool = pool;
            this.connection = connection;
        }

        /** A read on an idle connection: the backend closed it, or sent what nobody asked for. Either way, gone. */
        @Override
        public void handleEvent(StreamSourceChannel channel) {
            if (!idle) {
                channel.suspendReads();
                return;
            }
            if (!probe()) {
                pool.remove(this);
                close();
            }
        }

        /** Whether a connection just taken from its pool is still open: a read finds nothing (else it closes). */
        boolean isAlive() {
            if (probe()) {
                return true;
            }
            close();
            return false;
        }

        /** Reads without waiting: true if nothing came (open and quiet), false at the end or on unasked bytes. */
        private boolean probe() {
            ByteBuffer probe = pool.local.probe;
            probe.clear();
            try {
                return connection.getSourceChannel().read(probe) == 0;
            } catch (IOException e) {
                return false;
            }
        }

        void close() {
            idle = false;
            IoUtils.safeClose(connection);
        }
    }
}
