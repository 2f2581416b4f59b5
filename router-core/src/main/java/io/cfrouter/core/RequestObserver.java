package io.cfrouter.core;

import java.util.List;

/**
 * Told about every finished request (statistics, access log). Called on the proxy's I/O threads: an
 * implementation must not block and must not throw.
 */
@FunctionalInterface
public interface RequestObserver {

    /** One request has finished. */
    void onRequest(RequestRecord record);

    /** An observer that ignores everything. */
    static RequestObserver none() {
        return record -> { };
    }

    /** An observer that tells each of {@code observers} in order. */
    static RequestObserver all(List<? extends RequestObserver> observers) {
        RequestObserver[] array = observers.toArray(new RequestObserver[0]);
        if (array.length == 1) {
            return array[0];
        }
        return record -> {
            for (RequestObserver o : array) {
                o.onRequest(record);
            }
        };
    }
}
