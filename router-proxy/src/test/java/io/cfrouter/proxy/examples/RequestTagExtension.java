package io.cfrouter.proxy.examples;

import io.cfrouter.proxy.ProxyExtension;
import io.undertow.server.HttpHandler;
import io.undertow.util.HttpString;

/** A second example extension, outermost (order -1): tags every request, to show ordering. */
public final class RequestTagExtension implements ProxyExtension {

    @Override
    public HttpHandler wrap(HttpHandler next) {
        return exchange -> {
            exchange.getRequestHeaders().add(new HttpString("X-Extension-Trail"), "tag");
            next.handleRequest(exchange);
        };
    }

    @Override
    public int order() {
        return -1;
    }
}
