package io.cfrouter.proxy;

import io.undertow.server.ConduitWrapper;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.ConduitFactory;
import org.xnio.channels.StreamSinkChannel;
import org.xnio.conduits.AbstractStreamSinkConduit;
import org.xnio.conduits.AbstractStreamSourceConduit;
import org.xnio.conduits.StreamSinkConduit;
import org.xnio.conduits.StreamSourceConduit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Wrappers around the client side of a proxied exchange: they count the request body and notice when the
 * client goes away (an I/O error reading its request or writing its response), which is logged as 499 and
 * is not the endpoint's fault.
 */
final class ClientSideConduits {

    private ClientSideConduits() {
    }

    static void install(HttpServerExchange exchange, ProxiedRequest request) {
        exchange.addRequestWrapper(new RequestWrapper(request));
        exchange.addResponseWrapper(new ResponseWrapper(request));
    }

    private record RequestWrapper(ProxiedRequest request) implements ConduitWrapper<StreamSourceConduit> {
        @Override
        public StreamSourceConduit wrap(ConduitFactory<StreamSourceConduit> factory, HttpServerExchange exchange) {
            return new CountingSource(factory.create(), request, exchange.getRequestContentLength());
        }
    }

    private record ResponseWrapper(ProxiedRequest request) implements ConduitWrapper<StreamSinkConduit> {
        @Override
        public StreamSinkConduit wrap(ConduitFactory<StreamSinkConduit> factory, HttpServerExchange exchange) {
            return new WatchedSink(factory.create(), request);
        }
    }

    private static final class CountingSource extends AbstractStreamSourceConduit<StreamSourceConduit> {
        private final ProxiedRequest request;
        private final long contentLength;

        CountingSource(StreamSourceConduit next, ProxiedRequest request, long contentLength) {
            super(next);
            this.request = request;
            this.contentLength = contentLength;
        }

        private long count(long n) {
            if (n > 0) {
                request.requestBytes += n;
            } else if (n < 0 && contentLength > 0 && request.requestBytes < contentLength) {
                request.clientGone = true; // the body ended before its Content-Length: the client left
            }
            return n;
        }

        private IOException gone(IOException e) {
            request.clientGone = true;
            return e;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            try {
                return (int) count(next.read(dst));
            } catch (IOException e) {
                throw gone(e);
            }
        }

        @Override
        public long read(ByteBuffer[] dsts, int offs, int len) throws IOException {
            try {
                return count(next.read(dsts, offs, len));
            } catch (IOException e) {
                throw gone(e);
            }
        }

        @Override
        public long transferTo(long position, long count, FileChannel target) throws IOException {
            try {
                return count(next.transferTo(position, count, target));
            } catch (IOException e) {
                throw gone(e);
            }
        }

        @Override
        public long transferTo(long count, ByteBuffer throughBuffer, StreamSinkChannel target) throws IOException {
            try {
                return count(next.transferTo(count, throughBuffer, target));
            } catch (IOException e) {
                throw gone(e);
            }
        }
    }

    private static final class WatchedSink extends AbstractStreamSinkConduit<StreamSinkConduit> {
        private final ProxiedRequest request;

        WatchedSink(StreamSinkConduit next, ProxiedRequest request) {
            super(next);
            this.request = request;
        }

        private IOException gone(IOException e) {
            request.clientGone = true;
            return e;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            try {
                return next.write(src);
            } catch (IOException e) {
                throw gone(e);
            }
        }

        @Override
        public long write(ByteBuffer[] srcs, int offs, int len) throws IOException {
            try {
                return next.write(srcs, offs, len);
            } catch (IOException e) {
                throw gone(e);
            }
        }

        @Override
        public int writeFinal(ByteBuffer src) throws IOException {
            try {
                return next.writeFinal(src);
            } catch (IOException e) {
                throw gone(e);
            }
        }

        @Override
        public long writeFinal(ByteBuffer[] srcs, int offs, int len) throws IOException {
            try {
                return next.writeFinal(srcs, offs, len);
            } catch (IOException e) {
                throw gone(e);
            }
        }

        @Override
        public long transferFrom(FileChannel src, long position, long count) throws IOException {
            try {
                return next.transferFrom(src, position, count);
            } catch (IOException e) {
                throw gone(e);
            }
        }

        @Override
        public long transferFrom(org.xnio.channels.StreamSourceChannel source, long count, ByteBuffer throughBuffer)
                throws IOException {
            try {
                return next.transferFrom(source, count, throughBuffer);
            } catch (IOException e) {
                throw gone(e);
            }
        }

        @Override
        public boolean flush() throws IOException {
            try {
                return next.flush();
            } catch (IOException e) {
                throw gone(e);
            }
        }
    }
}
