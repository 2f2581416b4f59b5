package io.cfrouter.proxy;

import io.undertow.server.HttpHandler;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.ServiceLoader;

/**
 * A handler the launcher puts in front of the proxy, found on the classpath with {@link ServiceLoader}: a jar
 * with a {@code META-INF/services/io.cfrouter.proxy.ProxyExtension} file naming an implementation, put on
 * the launcher's classpath ({@code java -cp router.jar:ext.jar io.cfrouter.app.Main}, since {@code -jar}
 * ignores {@code -cp}), adds, say, an auth check without forking the launcher.
 *
 * <p>An extension's handler runs on an I/O thread for every request: it must not block (or must
 * {@code exchange.dispatch(...)} to a worker first), and it calls {@code next.handleRequest(exchange)} to
 * let the request through. Implementations need a public no-argument constructor and must be thread-safe.
 */
public interface ProxyExtension {

    /** Wraps {@code next} (the proxy, or the next extension) in this extension's handler. */
    HttpHandler wrap(HttpHandler next);

    /**
     * Where this extension sits: lower values are outermost (see the request first). Default 0; ties keep
     * the classpath order.
     */
    default int order() {
        return 0;
    }

    /** The extensions visible to {@code loader}, outermost first. */
    static List<ProxyExtension> load(ClassLoader loader) {
        List<ProxyExtension> found = new ArrayList<>();
        ServiceLoader.load(ProxyExtension.class, loader).forEach(found::add);
        found.sort(Comparator.comparingInt(ProxyExtension::order));
        return List.copyOf(found);
    }

    /** {@code handler} wrapped in {@code extensions}, the first of them outermost. */
    static HttpHandler wrapAll(List<? extends ProxyExtension> extensions, HttpHandler handler) {
        Objects.requireNonNull(handler, "handler");
        HttpHandler h = handler;
        for (int i = extensions.size() - 1; i >= 0; i--) {
            h = Objects.requireNonNull(extensions.get(i).wrap(h), "wrap() returned null");
        }
        return h;
    }
}
