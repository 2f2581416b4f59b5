package io.cfrouter.app.reliability;

import io.undertow.Undertow;
import io.undertow.server.HttpHandler;

import java.net.InetSocketAddress;

/** A real Undertow backend on a free loopback port. */
record Backend(Undertow server, int port) implements AutoCloseable {

    static Backend start(HttpHandler handler) {
        Undertow server = Undertow.builder().addHttpListener(0, "127.0.0.1").setHandler(handler).build();
        server.start();
        return new Backend(server, ((InetSocketAddress) server.getListenerInfo().get(0).getAddress()).getPort());
    }

    /** A backend that answers every request with {@code name}. */
    static Backend named(String name) {
        return start(exchange -> exchange.getResponseSender().send(name));
    }

    @Override
    public void close() {
        server.stop();
    }
}
