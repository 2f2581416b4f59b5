package io.cfrouter.proxy;

import io.cfrouter.testsupport.HttpExchange;
import io.undertow.server.HttpHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** §3.4: the {@code __VCAP_ID__} cookie and the instance it pins. */
class StickySessionsIT {

    private ProxyFixture router;
    private int first;
    private int second;

    @BeforeEach
    void start() {
        router = new ProxyFixture();
        first = router.backend(instance("one", "JSESSIONID=abc; Path=/; Secure; SameSite=Strict; Max-Age=-1; "
                + "Expires=Thu, 01 Jan 2099 00:00:00 GMT"));
        second = router.backend(instance("two", "JSESSIONID=def"));
        router.register("sticky.example.com/App", first, "app", "instance-one", "0");
        router.register("sticky.example.com/App", second, "app", "instance-two", "1");
    }

    @AfterEach
    void stop() throws Exception {
        router.close();
    }

    private static HttpHandler instance(String name, String sessionCookie) {
        return exchange -> {
            if (exchange.getRequestPath().endsWith("/login")) {
                exchange.getResponseHeaders().add(io.undertow.util.Headers.SET_COOKIE, sessionCookie);
            }
            exchange.getResponseSender().send(name);
        };
    }

    private HttpExchange.Response loginUntil(String instance) {
        for (int i = 0; i < 10; i++) {
            HttpExchange.Response r = HttpExchange.get(router.port, "sticky.example.com", "/App/login");
            if (r.bodyText().equals(instance)) {
                return r;
            }
        }
        throw new AssertionError("round-robin never reached " + instance);
    }

    @Test
    void shouldAddVcapIdWithTheContextPathAndCopiedAttributes() {
        HttpExchange.Response r = loginUntil("one");
        List<String> cookies = r.headers("Set-Cookie");
        assertThat(cookies).anyMatch(c -> c.startsWith("JSESSIONID=abc"));
        String vcap = cookies.stream().filter(c -> c.startsWith("__VCAP_ID__=")).findFirst().orElseThrow();
        assertThat(vcap).startsWith("__VCAP_ID__=instance-one; Path=/App; HttpOnly")
                .contains("; SameSite=Strict").contains("; Max-Age=-1")
                .contains("; Expires=Thu, 01 Jan 2099 00:00:00 GMT").endsWith("; Secure");
        HttpExchange.Response plain = loginUntil("two");
        String vcapTwo = plain.headers("Set-Cookie").stream().filter(c -> c.startsWith("__VCAP_ID__="))
                .findFirst().orElseThrow();
        assertThat(vcapTwo).isEqualTo("__VCAP_ID__=instance-two; Path=/App; HttpOnly");
    }

    @Test
    void shouldNotAddVcapIdWithoutASessionCookie() {
        HttpExchange.Response r = HttpExchange.get(router.port, "sticky.example.com", "/App/other");
        assertThat(r.headers("Set-Cookie")).isEmpty();
    }

    @Test
    void shouldForceSecureWithSecureCookies() throws Exception {
        try (ProxyFixture secure = new ProxyFixture(ProxySettings.defaults().withSecureCookies(true), 0)) {
            secure.register("s.example.com", second, "app", "instance-two", "1");
            HttpExchange.Response r = HttpExchange.get(secure.port, "s.example.com", "/login");
            assertThat(r.headers("Set-Cookie")).contains("__VCAP_ID__=instance-two; Path=/; HttpOnly; Secure");
        }
    }

    @Test
    void shouldSendAStickyRequestToItsInstance() {
        for (int i = 0; i < 6; i++) {
            HttpExchange.Response r = HttpExchange.get(router.port, "sticky.example.com", "/App/page",
                    "Cookie: JSESSIONID=def; __VCAP_ID__=instance-two");
            assertThat(r.bodyText()).isEqualTo("two");
            assertThat(r.headers("Set-Cookie")).isEmpty();
        }
    }

    @Test
    void shouldFallBackToAnotherInstanceWithAFreshCookie() {
        router.registry.unregister(io.cfrouter.core.RouteKey.parse("sticky.example.com/App"), "127.0.0.1:" + second);
        HttpExchange.Response r = HttpExchange.get(router.port, "sticky.example.com", "/App/page",
                "Cookie: JSESSIONID=def; __VCAP_ID__=instance-two");
        assertThat(r.bodyText()).isEqualTo("one");
        assertThat(r.headers("Set-Cookie")).containsExactly("__VCAP_ID__=instance-one; Path=/App; HttpOnly");
    }

    @Test
    void shouldLeaveTheBackendsOwnVcapIdAlone() throws Exception {
        int own = router.backend(exchange -> {
            exchange.getResponseHeaders().add(io.undertow.util.Headers.SET_COOKIE, "JSESSIONID=x");
            exchange.getResponseHeaders().add(io.undertow.util.Headers.SET_COOKIE, "__VCAP_ID__=mine");
            exchange.getResponseSender().send("own");
        });
        router.register("own.example.com", own, "app", "instance-own", "0");
        HttpExchange.Response r = HttpExchange.get(router.port, "own.example.com", "/");
        assertThat(r.headers("Set-Cookie")).containsExactly("JSESSIONID=x", "__VCAP_ID__=mine");
    }
}
