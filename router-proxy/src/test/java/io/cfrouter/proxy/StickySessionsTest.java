package io.cfrouter.proxy;

import io.undertow.util.HeaderMap;
import io.undertow.util.Headers;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class StickySessionsTest {

    private final StickySessions sticky = new StickySessions(List.of("JSESSIONID", "SESSION"), false);

    private static HeaderMap setCookies(String... cookies) {
        HeaderMap h = new HeaderMap();
        for (String c : cookies) {
            h.add(Headers.SET_COOKIE, c);
        }
        return h;
    }

    @Test
    void shouldAskForAnInstanceOnlyWithASessionCookieToo() {
        HeaderMap both = new HeaderMap().add(Headers.COOKIE, "a=b; SESSION=s1").add(Headers.COOKIE, "__VCAP_ID__=i-9");
        assertThat(sticky.requestedInstance(both)).isEqualTo("i-9");
        assertThat(sticky.requestedInstance(new HeaderMap().add(Headers.COOKIE, "__VCAP_ID__=i-9"))).isNull();
        assertThat(sticky.requestedInstance(new HeaderMap().add(Headers.COOKIE, "JSESSIONID=x"))).isNull();
    }

    @Test
    void shouldCopyOnlyNonPositiveMaxAge() {
        HeaderMap h = setCookies("JSESSIONID=x; Max-Age=3600; HttpOnly");
        sticky.onResponse(h, h.get(Headers.SET_COOKIE), "i-1", "/", null);
        assertThat(h.get(Headers.SET_COOKIE)).contains("__VCAP_ID__=i-1; Path=/; HttpOnly");
        HeaderMap expire = setCookies("JSESSIONID=; Max-Age=0");
        sticky.onResponse(expire, expire.get(Headers.SET_COOKIE), "i-1", "/", null);
        assertThat(expire.get(Headers.SET_COOKIE)).contains("__VCAP_ID__=i-1; Path=/; HttpOnly; Max-Age=0");
    }

    @Test
    void shouldAddNothingWithoutAnInstanceId() {
        HeaderMap h = setCookies("JSESSIONID=x");
        sticky.onResponse(h, h.get(Headers.SET_COOKIE), "", "/", "i-2");
        assertThat(h.get(Headers.SET_COOKIE)).containsExactly("JSESSIONID=x");
    }

    @Test
    void shouldAddAFreshCookieWhenAnotherInstanceServedTheStickyRequest() {
        HeaderMap h = new HeaderMap();
        sticky.onResponse(h, h.get(Headers.SET_COOKIE), "i-1", "/ctx", "i-2");
        assertThat(h.get(Headers.SET_COOKIE)).containsExactly("__VCAP_ID__=i-1; Path=/ctx; HttpOnly");
        HeaderMap same = new HeaderMap();
        sticky.onResponse(same, same.get(Headers.SET_COOKIE), "i-2", "/ctx", "i-2");
        assertThat(same.get(Headers.SET_COOKIE)).isNull();
    }
}
