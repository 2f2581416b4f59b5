package io.cfrouter.proxy;

import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.server.HttpHandler;
import org.xnio.Option;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.Xnio;
import org.xnio.XnioWorker;

import java.io.IOException;
import java.time.Duration;
import java.util.Objects;

/**
 * Builds the proxy's HTTP listener with the Undertow options the contract needs, so that the launcher and
 * embedders do not repeat them: the request URI is not decoded (it is forwarded byte for byte, and routes
 * match the path as sent), request heads up to a hard cap above {@code max_request_header_bytes} reach the
 * handler (which answers 431 over the limit), no {@code Connection: keep-alive} is added to responses,
 * idle client connections close after the frontend idle timeout, a connection that has not delivered
 * a whole request head within the header-read timeout of its first byte is closed (slowloris), and buffers
 * come from a per-thread pool rather than Undertow's synchronised one.
 *
 * <p>The listener also reads each request head's raw bytes for what Undertow's parser drops before any
 * handler runs: a header line folded onto the one before (refused with 400), a {@code ?} that Undertow
 * leaves out of the query (the URI is forwarded as sent), an HTTP/1.1 request without {@code Host}
 * (answered with the contract's {@code empty_host} 400 rather than Undertow's bare one). An Undertow server
 * built from {@link #listenerOptions} has the options but not these checks.
 *
 * <pre>{@code
 * ProxyListener server = ProxyServer.builder(handler).host("0.0.0.0").port(8081)
 *         .maxRequestHeaderBytes(settings.maxRequestHeaderBytes()).idleTimeout(Duration.ofSeconds(900))
 *         .build();
 * server.start();
 * }</pre>
 *
 * Not thread-safe.
 */
public final class ProxyServer {

    /** Room above {@code max_request_header_bytes} so the handler, not Undertow's parser, sees oversized heads. */
    private static final int HEADER_SLACK = 64 * 1024;
    /** {@code read_header_timeout}'s default. */
    public static final Duration DEFAULT_READ_HEADER_TIMEOUT = Duration.ofSeconds(10);

    private final HttpHandler handler;
    private RouterHandler fastLane;
    private String host = "0.0.0.0";
    private int port = 8081;
    private int maxRequestHeaderBytes = 1 << 20;
    private Duration idleTimeout = Duration.ofSeconds(900);
    private Duration readHeaderTimeout = DEFAULT_READ_HEADER_TIMEOUT;
    private int ioThreads = Math.max(2, Runtime.getRuntime().availableProcessors());
    private XnioWorker worker;

    private ProxyServer(HttpHandler handler) {
        this.handler = Objects.requireNonNull(handler, "handler");
        this.fastLane = handler instanceof RouterHandler router && FastLane.usable(router) ? router : null;
    }

    /** A builder for a listener whose root handler is {@code handler} (a {@link RouterHandler}, maybe wrapped). */
    public static ProxyServer builder(HttpHandler handler) {
        return new ProxyServer(handler);
    }

    /** The address to bind (default {@code 0.0.0.0}). */
    public ProxyServer host(String host) {
        this.host = Objects.requireNonNull(host, "host");
        return this;
    }

    /** The port to bind, 0 for any free port (default 8081). */
    public ProxyServer port(int port) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port: " + port + " (expected: 0-65535)");
        }
        this.port = port;
        return this;
    }

    /** {@code max_request_header_bytes}; should match {@link ProxySettings#maxRequestHeaderBytes()}. */
    public ProxyServer maxRequestHeaderBytes(int bytes) {
        if (bytes < 1) {
            throw new IllegalArgumentException("maxRequestHeaderBytes: " + bytes + " (expected: >= 1)");
        }
        this.maxRequestHeaderBytes = bytes;
        return this;
    }

    /** {@code frontend_idle_timeout}: idle client connections, upgraded ones included, close after it. */
    public ProxyServer idleTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("idleTimeout: " + timeout + " (expected: > 0)");
        }
        this.idleTimeout = timeout;
        return this;
    }

    /**
     * {@code read_header_timeout} (default 10 s): a connection that has started a request head but not
     * finished it this long after is closed without an answer. Trickling bytes does not extend it.
     */
    public ProxyServer readHeaderTimeout(Duration timeout) {
        this.readHeaderTimeout = positive(timeout, "readHeaderTimeout");
        return this;
    }

    /** I/O threads (default: the number of cores, at least 2). The proxy needs no worker threads. */
    public ProxyServer ioThreads(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("ioThreads: " + threads + " (expected: >= 1)");
        }
        this.ioThreads = threads;
        return this;
    }

    /**
     * Serves the common request (a keep-alive {@code GET} or {@code HEAD} without a body, whose head fits a
     * 16 KiB buffer, for a host with a route) on the router's own HTTP/1.1 path with {@code router}'s routing, settings
     * and observer, without Undertow's exchange; every other request, and the rest of its connection, goes to
     * the listener's handler as before. Use it when the listener's handler is {@code router} behind handlers
     * that only matter for the other requests (a {@code GracefulShutdownHandler}, with
     * {@link ProxyListener#stopOwnRequests} in the drain). A listener built with {@code router} itself as its
     * handler has it unless told {@code fastLane(null)}; it is off when {@code router} uses
     * {@link ProxyEngine#UNDERTOW} or an embedder's {@link RouteLookup}.
     */
    public ProxyServer fastLane(RouterHandler router) {
        this.fastLane = router != null && FastLane.usable(router) ? router : null;
        return this;
    }

    /**
     * The XNIO worker to run on, owned by the caller, instead of one of the listener's own: stopping the
     * listener then leaves it, and connections already accepted, running ({@link #ioThreads} does not apply).
     */
    public ProxyServer worker(XnioWorker worker) {
        this.worker = Objects.requireNonNull(worker, "worker");
        return this;
    }

    /**
     * An XNIO worker with the options the listener gives its own, for {@link #worker}: named {@code name},
     * with {@code ioThreads} I/O threads and {@code workerThreads} worker threads. The caller shuts it down.
     */
    public static XnioWorker newWorker(String name, int ioThreads, int workerThreads) throws IOException {
        Objects.requireNonNull(name, "name");
        return Xnio.getInstance(Undertow.class.getClassLoader()).createWorker(OptionMap.builder()
                .set(Options.WORKER_NAME, name)
                .set(Options.WORKER_IO_THREADS, ioThreads)
                .set(Options.CONNECTION_HIGH_WATER, 1_000_000)
                .set(Options.CONNECTION_LOW_WATER, 1_000_000)
                .set(Options.WORKER_TASK_CORE_THREADS, workerThreads)
                .set(Options.WORKER_TASK_MAX_THREADS, workerThreads)
                .set(Options.TCP_NODELAY, true)
                .set(Options.CORK, true)
                .getMap());
    }

    /** The listener, not yet started. */
    public ProxyListener build() {
        OptionMap.Builder options = OptionMap.builder();
        applyOptions(new OptionSink() {
            @Override
            public <T> void set(Option<T> option, T value) {
                // For this option Undertow 2.3's HTTP/1 listener puts an IdleTimeoutConduit over each connection
                // and never sets its timeout, so it does nothing; the listener puts its own under the request head
                // watch (ClientIdleTimeout), which is then the connection's original source conduit.
                if (option != UndertowOptions.IDLE_TIMEOUT) {
                    options.set(option, value);
                }
            }
        }, maxRequestHeaderBytes, idleTimeout, readHeaderTimeout);
        return new ProxyListener(handler, host, port, options.getMap(), worker, ioThreads, Math.max(2, ioThreads),
                millis(idleTimeout), fastLane);
    }

    /**
     * Applies the proxy listener's options to an Undertow builder, for embedders that build their own server,
     * with the default header-read timeout.
     *
     * @return {@code builder}
     */
    public static Undertow.Builder listenerOptions(Undertow.Builder builder, int maxRequestHeaderBytes,
                                                   Duration idleTimeout) {
        return listenerOptions(builder, maxRequestHeaderBytes, idleTimeout, DEFAULT_READ_HEADER_TIMEOUT);
    }

    /**
     * Applies the proxy listener's options to an Undertow builder, for embedders that build their own server.
     *
     * @param readHeaderTimeout a request head must be complete this long after its first byte arrived, else
     *                          the connection is closed
     * @return {@code builder}
     */
    public static Undertow.Builder listenerOptions(Undertow.Builder builder, int maxRequestHeaderBytes,
                                                   Duration idleTimeout, Duration readHeaderTimeout) {
        builder.setByteBufferPool(new ThreadBufferPool());
        applyOptions(new OptionSink() {
            @Override
            public <T> void set(Option<T> option, T value) {
                builder.setServerOption(option, value);
            }
        }, maxRequestHeaderBytes, idleTimeout, readHeaderTimeout);
        return builder;
    }

    /** Where {@link #applyOptions} puts the options: an Undertow builder, or the listener's own map. */
    private interface OptionSink {
        <T> void set(Option<T> option, T value);
    }

    private static void applyOptions(OptionSink sink, int maxRequestHeaderBytes, Duration idleTimeout,
                                     Duration readHeaderTimeout) {
        int idleMillis = millis(idleTimeout);
        sink.set(UndertowOptions.DECODE_URL, false);
        sink.set(UndertowOptions.MAX_ENTITY_SIZE, -1L);
        sink.set(UndertowOptions.MAX_HEADER_SIZE,
                (int) Math.min(Integer.MAX_VALUE, (long) maxRequestHeaderBytes + HEADER_SLACK));
        sink.set(UndertowOptions.MAX_HEADERS, 10_000);
        sink.set(UndertowOptions.MAX_PARAMETERS, 100_000);
        sink.set(UndertowOptions.ALWAYS_SET_KEEP_ALIVE, false);
        sink.set(UndertowOptions.ALWAYS_SET_DATE, true);
        sink.set(UndertowOptions.IDLE_TIMEOUT, idleMillis);
        sink.set(UndertowOptions.NO_REQUEST_TIMEOUT, idleMillis);
        // Undertow starts this clock on the first read that leaves the head incomplete and does not
        // restart it for later bytes, so a byte-a-second head is cut once it runs out.
        sink.set(UndertowOptions.REQUEST_PARSE_TIMEOUT, millis(positive(readHeaderTimeout, "readHeaderTimeout")));
    }

    private static int millis(Duration d) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, d.toMillis()));
    }

    private static Duration positive(Duration d, String name) {
        Objects.requireNonNull(d, name);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + ": " + d + " (expected: > 0)");
        }
        return d;
    }
}
