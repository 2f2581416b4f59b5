package io.cfrouter.proxy;

import io.undertow.server.ConduitWrapper;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.ConduitFactory;
import org.xnio.conduits.StreamSinkConduit;
import org.xnio.conduits.StreamSourceConduit;

import java.io.IOException;

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
            return new RequestBody(factory.create(), request, exchange.getRequestContentLength());
        }
    }

    private record ResponseWrapper(ProxiedRequest request) implements ConduitWrapper<StreamSinkConduit> {
        @Override
        public StreamSinkConduit wrap(ConduitFactory<StreamSinkConduit> factory, HttpServerExchange exchange) {
            return new Response(factory.create(), request);
        }
    }

    private static final class RequestBody extends CountingConduits.Source {
        private final ProxiedRequest request;
        private final long contentLength;

        RequestBody(StreamSourceConduit next, ProxiedRequest request, long contentLength) {
            super(next);
            this.request = request;
            this.contentLength = contentLength;
        }

        @Override
        void counted(long n) {
            if (n > 0) {
                request.requestBytes += n;
            } else if (n < 0 && contentLength > 0 && request.requestBytes < contentLength) {
                request.clientGone = true; // the body ended before its Content-Length: the client left
            }
        }

        @Override
        IOException failed(IOException e) {
            request.clientGone = true;
            return e;
        }
    }

    private static final class Response extends CountingConduits.Sink {
        private final ProxiedRequest request;

        Response(StreamSinkConduit next, ProxiedRequest request) {
            super(next);
            this.request = request;
        }

        @Override
        void counted(long written) {
            // Undertow counts the response bytes itself (getResponseBytesSent).
        }

        @Override
        IOException failed(IOException e) {
            request.clientGone = true;
            return e;
        }
    }
}
