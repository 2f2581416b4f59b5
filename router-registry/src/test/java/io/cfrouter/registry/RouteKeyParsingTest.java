package io.cfrouter.registry;

import io.cfrouter.core.RouteKey;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RouteKeyParsingTest {

    @Test
    void shouldLowerCaseTheKeyAndKeepTheOriginalCaseContextPath() {
        RouteKey key = RouteKey.parse("App.Example.COM/Foo/Bar");

        assertThat(key.key()).isEqualTo("app.example.com/foo/bar");
        assertThat(key.contextPath()).isEqualTo("/Foo/Bar");
    }

    @Test
    void shouldDropTheQueryTheFragmentAndSurroundingSlashes() {
        assertThat(RouteKey.parse("app.com//foo/bar//?x=1/y").key()).isEqualTo("app.com/foo/bar");
        assertThat(RouteKey.parse("app.com/foo#frag").key()).isEqualTo("app.com/foo");
        assertThat(RouteKey.parse("  app.com/  ").key()).isEqualTo("app.com");
    }

    @Test
    void shouldGiveAHostOnlyRouteTheRootContextPath() {
        assertThat(RouteKey.parse("app.com/").contextPath()).isEqualTo("/");
        assertThat(RouteKey.parse("app.com?q").contextPath()).isEqualTo("/");
    }

    @Test
    void shouldDropThePortOfARegisteredHost() {
        assertThat(RouteKey.parse("app.com:8080/api").key()).isEqualTo("app.com/api");
    }

    @Test
    void shouldKeepAnIpv6LiteralInBracketsWithoutItsPort() {
        assertThat(RouteKey.parse("[::1]:8081/x").key()).isEqualTo("[::1]/x");
        assertThat(RouteKey.parse("[FE80::1]").key()).isEqualTo("[fe80::1]");
        assertThat(RouteKey.parse("::1").key()).isEqualTo("[::1]");
    }

    @Test
    void shouldCompareByKeyOnly() {
        assertThat(RouteKey.parse("app.com/Foo")).isEqualTo(RouteKey.parse("APP.com/foo"));
    }

    @Test
    void shouldRejectAUriWithoutAHost() {
        assertThatThrownBy(() -> RouteKey.parse("/path")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("expected: host[/path]");
        assertThatThrownBy(() -> RouteKey.parse("   ")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> RouteKey.parse("[::1/x")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("closing ]");
    }

    @Test
    void shouldLowerCaseOneCharAtATime() {
        // String.toLowerCase would turn U+0130 into two chars; a lookup lower-cases in place, one for one.
        assertThat(RouteKey.lowerCase("\u0130X")).isEqualTo("ix");
        assertThat(RouteKey.lowerCase("abc")).isSameAs("abc");
    }
}
