package io.cfrouter.proxy;

import io.undertow.UndertowOptions;
import io.undertow.connector.ByteBufferPool;
import io.undertow.server.HttpHandler;
import io.undertow.server.protocol.http.HttpOpenListener;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.xnio.ChannelListener;
import org.xnio.IoUtils;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.StreamConnection;
import org.xnio.XnioWorker;
import org.xnio.channels.AcceptingChannel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.ClosedChannelException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * The proxy's HTTP listener, built by {@link ProxyServer}: Undertow's HTTP/1.1 connection handling on an
 * accepting socket of its own, so that each accepted connection can be watched from its first byte (see
 * {@link ProxyServer} for what is checked), and, when the listener has one ({@link ProxyServer#fastLane}),
 * the router's own path, which reads each new connection first and hands it to Undertow at the first
 * request it does not serve itself. {@link #start()} binds and accepts; {@link #stop()} closes the
 * listening socket and, unless the worker was given to {@link ProxyServer#worker}, the worker with its
 * connections.
 *
 * <p>Thread-safe.
 */
public final class ProxyListener implements AutoCloseable {

    private static final Logger LOGGER = LogManager.getLogger();
    private static final int MEGABYTE = 1024 * 1024;

    private final HttpHandler handler;
    private final String host;
    private final int port;
    private final OptionMap serverOptions;
    private final XnioWorker givenWorker;
    private final int ioThreads;
    private final int workerThreads;
    private final long idleTimeoutMillis;
    /** The router's own path for the common requests; null when there is none. */
    private final RouterHandler fastLaneHandler;
    private FastLane fastLane;

    private XnioWorker worker;
    private AcceptingChannel<StreamConnection> server;

    ProxyListener(HttpHandler handler, String host, int port, OptionMap serverOptions, XnioWorker givenWorker,
                  int ioThreads, int workerThreads, long idleTimeoutMillis, RouterHandler fastLaneHandler) {
        this.handler = handler;
        this.host = host;
        this.port = port;
        this.serverOptions = serverOptions;
        this.givenWorker = givenWorker;
        this.ioThreads = ioThreads;
        this.workerThreads = workerThreads;
        this.idleTimeoutMillis = idleTimeoutMillis;
        this.fastLaneHandler = fastLaneHandler;
    }

    /**
     * Binds and starts accepting connections.
     *
     * @throws UncheckedIOException if the address cannot be bound (its cause says why, e.g. a
     *                              {@link java.net.BindException})
     * @throws IllegalStateException if it is already started
     */
    public synchronized void start() {
        if (server != null) {
            throw new IllegalStateException("already started");
        }
        try {
            worker = givenWorker != null ? givenWorker : ProxyServer.newWorker("cf-router-proxy", ioThreads, workerThreads);
            HttpOpenListener open = new HttpOpenListener(bufferPool(), OptionMap.builder()
                    .set(UndertowOptions.BUFFER_PIPELINED_DATA, true)
                    .addAll(serverOptions)
                    .getMap());
            open.setRootHandler(RequestHeadWatch.watching(handler));
            ChannelListener<StreamConnection> undertow =
                    ClientIdleTimeout.installing(RequestHeadWatch.watching(open), idleTimeoutMillis);
            if (fastLaneHandler != null) {
                fastLane = new FastLane(fastLaneHandler, undertow, Duration.ofMillis(idleTimeoutMillis),
                        Duration.ofMillis(serverOptions.get(UndertowOptions.REQUEST_PARSE_TIMEOUT,
                                (int) ProxyServer.DEFAULT_READ_HEADER_TIMEOUT.toMillis())));
            }
            server = worker.createStreamConnectionServer(new InetSocketAddress(InetAddress.getByName(host), port),
                    accepting(fastLane != null ? fastLane.opening() : undertow),
                    OptionMap.builder()
                            .set(Options.WORKER_IO_THREADS, worker.getIoThreadCount())
                            .set(Options.TCP_NODELAY, true)
                            .set(Options.REUSE_ADDRESSES, true)
                            .set(Options.BALANCING_TOKENS, 1)
                            .set(Options.BALANCING_CONNECTIONS, 2)
                            .set(Options.BACKLOG, 1000)
                            .getMap());
            server.resumeAccepts();
        } catch (IOException e) {
            stopWorker();
            throw new UncheckedIOException("cannot listen on " + host + ":" + port + ": " + e.getMessage(), e);
        }
    }

    /** Closes the listening socket; the listener's own worker stops too, with the connections it serves. */
    public synchronized void stop() {
        IoUtils.safeClose(server);
        server = null;
        stopWorker();
    }

    @Override
    public void close() {
        stop();
    }

    /**
     * Accepts each connection for {@code open}. Unlike XNIO's {@code ChannelListeners.openListenerAdapter} it
     * says nothing when the listening socket was closed under accepts already queued (a stop or a drain),
     * where XNIO logs an ERROR with a stack trace per queued accept.
     */
    private static ChannelListener<AcceptingChannel<StreamConnection>> accepting(
            ChannelListener<? super StreamConnection> open) {
        return channel -> {
            StreamConnection connection;
            try {
                connection = channel.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                LOGGER.warn("Failed to accept a connection: {}", e.toString());
                return;
            }
            if (connection != null) {
                open.handleEvent(connection);
            }
        };
    }

    /**
     * For a drain: from now on requests that the router's own path would have served go to the listener's
     * handler (whose {@code GracefulShutdownHandler}, say, answers them), and {@link #awaitOwnRequests} can wait
     * for those in flight. Without that path (see {@link ProxyServer#fastLane}) it does nothing.
     */
    public synchronized void stopOwnRequests() {
        if (fastLane != null) {
            fastLane.shutdown();
        }
    }

    /**
     * Waits until the requests in flight on the router's own path have finished; true at once without that path.
     *
     * @return false if {@code millis} passed first
     */
    public boolean awaitOwnRequests(long millis) throws InterruptedException {
        FastLane lane;
        synchronized (this) {
            lane = fastLane;
        }
        return lane == null || lane.awaitIdle(millis);
    }

    /** Requests the router's own path has taken; for tests. */
    synchronized long ownRequests() {
        return fastLane == null ? 0 : fastLane.taken();
    }

    /** The port it listens on (the bound one when built with port 0). */
    public synchronized int port() {
        if (server == null) {
            throw new IllegalStateException("not started");
        }
        return server.getLocalAddress(InetSocketAddress.class).getPort();
    }

    private void stopWorker() {
        if (worker != null && worker != givenWorker) {
            worker.shutdown();
            try {
                worker.awaitTermination();
            } catch (InterruptedException e) {
                worker.shutdownNow();
                Thread.currentThread().interrupt();
            }
        }
        worker = null;
    }

    /** Buffers as Undertow's own server sizes them (16 kB direct ones unless the heap is tiny), from a
     *  per-thread pool rather than Undertow's synchronised one. */
    private static ByteBufferPool bufferPool() {
        long heap = Runtime.getRuntime().maxMemory();
        if (heap < 64L * MEGABYTE) {
            return new ThreadBufferPool(512, false);
        }
        if (heap < 128L * MEGABYTE) {
            return new ThreadBufferPool(1024, true);
        }
        return new ThreadBufferPool();
    }
}
