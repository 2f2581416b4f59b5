package io.cfrouter.status;

import io.cfrouter.core.RequestRecord;

import java.time.Duration;

/** Request records for tests. */
final class Records {

    private Records() {
    }

    static RequestRecord proxied(int status, Duration latency, String appId, String component) {
        return new RequestRecord("app.example.com", 0, "GET", "/", "HTTP/1.1", status, 0, 10, "", "curl",
                "127.0.0.1:5000", "10.0.0.1:8080", "127.0.0.1", "http", "id", latency.toNanos(), appId, "0",
                "instance", component, "");
    }

    static RequestRecord refused(int status, String routerError) {
        return new RequestRecord("nowhere.example.com", 0, "GET", "/", "HTTP/1.1", status, 0, 10, "", "curl",
                "127.0.0.1:5000", "", "127.0.0.1", "http", "id", 100_000, "", "", "", "", routerError);
    }
}
