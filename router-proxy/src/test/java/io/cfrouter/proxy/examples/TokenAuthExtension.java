package io.cfrouter.proxy.examples;

import io.cfrouter.proxy.ProxyExtension;
import io.undertow.server.HttpHandler;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;

/**
 * An example {@link ProxyExtension}: requests without the right {@code X-Auth-Token} get 401 before they reach
 * the proxy. Packaged in a jar with {@code META-INF/services/io.cfrouter.proxy.ProxyExtension} naming this
 * class, and put on the launcher's classpath, it guards every route.
 */
// tag::extension[]
public final class TokenAuthExtension implements ProxyExtension {

    private static final HttpString X_AUTH_TOKEN = new HttpString("X-Auth-Token");

    @Override
    public HttpHandler wrap(HttpHandler next) {
        return exchange -> {
            if (!"let-me-in".equals(exchange.getRequestHeaders().getFirst(X_AUTH_TOKEN))) {
                exchange.setStatusCode(401);
                exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain; charset=utf-8");
                exchange.getResponseSender().send("401 Unauthorized\n");
                return;
            }
            next.handleRequest(exchange);
        };
    }

    @Override
    public int order() {
        return 10;
    }
}
// end::extension[]
