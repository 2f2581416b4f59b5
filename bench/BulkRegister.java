import com.google.gson.JsonParser;
import io.nats.client.Connection;
import io.nats.client.Nats;
import io.nats.client.Options;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Publishes router.register for N host names (one message per name, all to one backend) and times how
 * long the router takes to show them in /varz ("urls"), counted from the first publish (after connecting):
 * time to the first route, and to all N.
 *
 * <pre>java -cp router-app/target/router.jar bench/BulkRegister.java NATS_URL VARZ_URL USER PASS N BACKEND_HOST BACKEND_PORT</pre>
 *
 * Prints one line: {@code REGISTER n=... publish_ms=... first_route_ms=... all_routes_ms=... routes_per_s=...};
 * exits 1 when the routes do not all show up within the timeout (env REGISTER_TIMEOUT_S, default 300).
 */
public class BulkRegister {

    public static void main(String[] args) throws Exception {
        if (args.length != 7) {
            System.err.println("usage: BulkRegister NATS_URL VARZ_URL USER PASS N BACKEND_HOST BACKEND_PORT");
            System.exit(2);
        }
        String natsUrl = args[0];
        URI varz = URI.create(args[1]);
        String auth = "Basic " + Base64.getEncoder()
                .encodeToString((args[2] + ":" + args[3]).getBytes(StandardCharsets.UTF_8));
        int n = Integer.parseInt(args[4]);
        String backendHost = args[5];
        int backendPort = Integer.parseInt(args[6]);
        long timeoutNanos = Duration.ofSeconds(Long.parseLong(
                System.getenv().getOrDefault("REGISTER_TIMEOUT_S", "300"))).toNanos();

        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpRequest request = HttpRequest.newBuilder(varz).header("Authorization", auth)
                .timeout(Duration.ofSeconds(10)).build();
        int before = routeCount(http, request);

        Options options = new Options.Builder().server(natsUrl).maxMessagesInOutgoingQueue(100_000)
                .connectionTimeout(Duration.ofSeconds(5)).build();
        Connection nats = Nats.connect(options);
        AtomicLong firstSeen = new AtomicLong(-1);
        AtomicLong allSeen = new AtomicLong(-1);
        long start = System.nanoTime();
        Thread poller = new Thread(() -> {
            try {
                while (System.nanoTime() - start < timeoutNanos) {
                    int urls = routeCount(http, request);
                    long now = System.nanoTime() - start;
                    if (urls > before) {
                        firstSeen.compareAndSet(-1, now);
                    }
                    if (urls >= n) {
                        allSeen.set(now);
                        return;
                    }
                    Thread.sleep(5);
                }
            } catch (Exception e) {
                System.err.println("BulkRegister: polling " + varz + " failed: " + e);
            }
        }, "varz-poller");
        poller.setDaemon(true);
        poller.start();

        long published;
        try (nats) {
            for (int i = 1; i <= n; i++) {
                String json = "{\"host\":\"" + backendHost + "\",\"port\":" + backendPort
                        + ",\"uris\":[\"app" + i + ".bench.test\"],\"app\":\"bench-app-" + i
                        + "\",\"private_instance_id\":\"bench-" + i + "\",\"private_instance_index\":\"0\""
                        + ",\"tags\":{\"component\":\"bench\"}}";
                nats.publish("router.register", json.getBytes(StandardCharsets.UTF_8));
            }
            nats.flush(Duration.ofSeconds(60));
            published = System.nanoTime() - start;
            poller.join(Math.max(1, (timeoutNanos - (System.nanoTime() - start)) / 1_000_000));
        }
        double ms = 1e-6;
        if (allSeen.get() < 0) {
            System.out.printf("REGISTER n=%d failed: %d routes visible after %d s%n", n,
                    routeCount(http, request), timeoutNanos / 1_000_000_000L);
            System.exit(1);
        }
        System.out.printf("REGISTER n=%d publish_ms=%.0f first_route_ms=%.1f all_routes_ms=%.0f routes_per_s=%.0f%n",
                n, published * ms, firstSeen.get() * ms, allSeen.get() * ms, n / (allSeen.get() * 1e-9));
    }

    private static int routeCount(HttpClient http, HttpRequest request) throws Exception {
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IllegalStateException("/varz answered " + response.statusCode());
        }
        return JsonParser.parseString(response.body()).getAsJsonObject().get("urls").getAsInt();
    }
}
