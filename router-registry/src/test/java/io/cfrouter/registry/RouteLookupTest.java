package io.cfrouter.registry;

import io.cfrouter.core.Endpoint;
import io.cfrouter.core.RouteKey;
import org.junit.jupiter.api.Test;

import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

class RouteLookupTest {

    private final RouteRegistry registry = RouteRegistry.builder().ticker(new FakeTicker()).build();

    private void route(String uri) {
        registry.register(RouteKey.parse(uri), Endpoint.of("10.0.0.1", 8080));
    }

    private void unroute(String uri) {
        registry.unregister(RouteKey.parse(uri), "10.0.0.1:8080");
    }

    private static String segments(String prefix, String separator, int count) {
        return IntStream.range(0, count).mapToObj(i -> prefix + i).collect(Collectors.joining(separator));
    }

    private String match(String host, String path) {
        Route route = registry.lookup(host, path);
        return route == null ? null : route.key().key();
    }

    @Test
    void shouldIgnoreTheCaseAndPortOfTheRequestHost() {
        route("app.example.com");

        assertThat(match("APP.Example.com:8443", "/")).isEqualTo("app.example.com");
        assertThat(match(" app.example.com ", "")).isEqualTo("app.example.com");
        assertThat(match("other.example.com", "/")).isNull();
    }

    @Test
    void shouldMatchWholePathSegmentsOnly() {
        route("app.com/bar");

        assertThat(match("app.com", "/bar")).isEqualTo("app.com/bar");
        assertThat(match("app.com", "/bar/")).isEqualTo("app.com/bar");
        assertThat(match("app.com", "/bar/x")).isEqualTo("app.com/bar");
        assertThat(match("app.com", "/BAR/x?y=/z")).isEqualTo("app.com/bar");
        assertThat(match("app.com", "/barx")).isNull();
        assertThat(match("app.com", "/")).isNull();
        assertThat(match("app.com", "/ba")).isNull();
    }

    @Test
    void shouldChooseTheLongestMatchingPath() {
        route("app.com");
        route("app.com/a");
        route("app.com/a/b");

        assertThat(match("app.com", "/a/b/c")).isEqualTo("app.com/a/b");
        assertThat(match("app.com", "/a/bc")).isEqualTo("app.com/a");
        assertThat(match("app.com", "/a")).isEqualTo("app.com/a");
        assertThat(match("app.com", "/x/a/b")).isEqualTo("app.com");
        assertThat(match("app.com", null)).isEqualTo("app.com");
        assertThat(match("app.com", "//a//")).isEqualTo("app.com/a");
    }

    @Test
    void shouldDropTheQueryOfTheRequest() {
        route("app.com/a");

        assertThat(match("app.com", "/a?x")).isEqualTo("app.com/a");
        assertThat(match("app.com", "/?a")).isNull();
    }

    @Test
    void shouldPreferTheExactHostOverWildcards() {
        route("*.example.com");
        route("app.example.com");

        assertThat(match("app.example.com", "/")).isEqualTo("app.example.com");
        assertThat(match("other.example.com", "/")).isEqualTo("*.example.com");
    }

    @Test
    void shouldTryTheNearestWildcardFirst() {
        route("*.c.com");
        route("*.b.c.com");

        assertThat(match("a.b.c.com", "/")).isEqualTo("*.b.c.com");
        assertThat(match("x.a.b.c.com", "/")).isEqualTo("*.b.c.com");
        assertThat(match("a.x.c.com", "/")).isEqualTo("*.c.com");
        assertThat(match("c.com", "/")).isNull();
    }

    @Test
    void shouldFallBackToAWildcardWhenNoPathOfTheExactHostMatches() {
        route("app.com/api");
        route("*.com");

        assertThat(match("app.com", "/api/v1")).isEqualTo("app.com/api");
        assertThat(match("app.com", "/web")).isEqualTo("*.com");
    }

    @Test
    void shouldMatchPathsUnderAWildcard() {
        route("*.example.com/api");

        assertThat(match("a.example.com", "/api/x")).isEqualTo("*.example.com/api");
        assertThat(match("a.example.com", "/web")).isNull();
    }

    @Test
    void shouldMatchNothingWhenThePathHasAMalformedEscape() {
        route("app.com");
        route("app.com/bar");

        assertThat(match("app.com", "/bar%zz")).isNull();
        assertThat(match("app.com", "/bar%4")).isNull();
        assertThat(match("app.com", "/%")).isNull();
    }

    @Test
    void shouldDecodeValidEscapesBeforeMatching() {
        route("app.com/bar");
        route("app.com/caf\u00e9");

        assertThat(match("app.com", "/b%61r/x")).isEqualTo("app.com/bar");
        assertThat(match("app.com", "/caf%C3%A9")).isEqualTo("app.com/caf\u00e9");
        assertThat(match("app.com", "/bar?q=%zz")).isEqualTo("app.com/bar");
    }

    @Test
    void shouldAllocateNothingForAnEscapeInTheQueryOnly() {
        route("app.com/bar");
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long thread = Thread.currentThread().getId();
        assertThat(match("app.com", "/bar/x?q=a%20b")).isEqualTo("app.com/bar"); // the thread's buffer made

        long before = threads.getThreadAllocatedBytes(thread);
        int found = 0;
        for (int i = 0; i < 1_000; i++) {
            found += registry.lookup("app.com", "/bar/x?q=a%20b&next=%2Fother") != null ? 1 : 0;
        }
        long allocated = threads.getThreadAllocatedBytes(thread) - before;

        assertThat(found).isEqualTo(1_000);
        // A decoded copy of the path would be a string and its buffers per lookup: well over 100 KB here.
        assertThat(allocated).as("bytes allocated by 1 000 lookups").isLessThan(8_000);
    }

    @Test
    void shouldHandleIpv6LiteralHosts() {
        route("[::1]:8081/x");
        route("[fe80::1]");

        assertThat(match("[::1]:8081", "/x/y")).isEqualTo("[::1]/x");
        assertThat(match("[::1]", "/x")).isEqualTo("[::1]/x");
        assertThat(match("[FE80::1]:80", "/")).isEqualTo("[fe80::1]");
        assertThat(match("fe80::1", "/")).isEqualTo("[fe80::1]");
        assertThat(match("::1", "/x/50%2525")).isEqualTo("[::1]/x");
        assertThat(match("[fe80::1", "/")).isNull();
    }

    @Test
    void shouldMatchNothingForAMissingOrEmptyHost() {
        route("app.com");

        assertThat(match(null, "/")).isNull();
        assertThat(match("", "/")).isNull();
        assertThat(match(":80", "/")).isNull();
        assertThat(match("[]", "/")).isNull();
    }

    @Test
    void shouldKeepTheContextPathOfTheFirstRegistration() {
        registry.register(RouteKey.parse("app.com/Api"), Endpoint.of("10.0.0.1", 1));
        registry.register(RouteKey.parse("app.com/API"), Endpoint.of("10.0.0.2", 1));

        assertThat(registry.lookup("app.com", "/api").key().contextPath()).isEqualTo("/Api");
        assertThat(registry.lookup("app.com", "/api").endpoints()).hasSize(2);
    }

    @Test
    void shouldStopMatchingARouteOnceItIsGone() {
        route("app.com/a");
        registry.unregister(RouteKey.parse("app.com/a"), "10.0.0.1:8080");

        assertThat(match("app.com", "/a")).isNull();
        route("app.com/a");
        assertThat(match("app.com", "/a")).isEqualTo("app.com/a");
    }

    @Test
    void shouldForgetAPathDepthOnlyWhenItsLastRouteIsGone() {
        route("app.com/a/b");
        route("app.com/c/d");
        route("app.com/x");

        unroute("app.com/a/b");
        assertThat(match("app.com", "/a/b/c")).isNull();
        assertThat(match("app.com", "/c/d/e")).isEqualTo("app.com/c/d");
        unroute("app.com/c/d");
        assertThat(match("app.com", "/c/d/e")).isNull();
        assertThat(match("app.com", "/x/d/e")).isEqualTo("app.com/x");
        route("app.com/c/d");
        assertThat(match("app.com", "/c/d/e")).isEqualTo("app.com/c/d");
        unroute("app.com/x");
        unroute("app.com/c/d");
        assertThat(match("app.com", "/c/d")).isNull();
        route("app.com");
        assertThat(match("app.com", "/c/d")).isEqualTo("app.com");
    }

    @Test
    void shouldForgetAWildcardDepthOnlyWhenItsLastHostIsGone() {
        route("*.b.c.com");
        route("*.x.c.com");
        route("*.c.com");

        unroute("*.b.c.com");
        assertThat(match("a.b.c.com", "/")).isEqualTo("*.c.com");
        assertThat(match("a.x.c.com", "/")).isEqualTo("*.x.c.com");
        unroute("*.x.c.com");
        assertThat(match("a.x.c.com", "/")).isEqualTo("*.c.com");
        unroute("*.c.com");
        assertThat(match("a.b.c.com", "/")).isNull();
        route("*.b.c.com");
        assertThat(match("a.b.c.com", "/")).isEqualTo("*.b.c.com");
        assertThat(match("a.x.c.com", "/")).isNull();
    }

    @Test
    void shouldKeepAWildcardWhileItHasPathRoutesOnly() {
        route("*.c.com/api");
        route("*.c.com/web");

        unroute("*.c.com/api");
        assertThat(match("a.c.com", "/web/x")).isEqualTo("*.c.com/web");
        assertThat(match("a.c.com", "/api")).isNull();
        unroute("*.c.com/web");
        assertThat(match("a.c.com", "/web")).isNull();
        route("*.c.com");
        assertThat(match("a.c.com", "/web")).isEqualTo("*.c.com");
    }

    @Test
    void shouldMatchPathsDeeperThanTheDepthsTrackedOneByOne() {
        // A host tracks 1 to 15 segments one by one and 16 or more as one: 17 and 40 share that bit.
        route("app.com/" + segments("s", "/", 15));
        route("app.com/" + segments("s", "/", 17));
        route("app.com/" + segments("s", "/", 40));

        assertThat(match("app.com", "/" + segments("s", "/", 45))).isEqualTo("app.com/" + segments("s", "/", 40));
        assertThat(match("app.com", "/" + segments("s", "/", 35))).isEqualTo("app.com/" + segments("s", "/", 17));
        assertThat(match("app.com", "/" + segments("s", "/", 16))).isEqualTo("app.com/" + segments("s", "/", 15));
        unroute("app.com/" + segments("s", "/", 17));
        assertThat(match("app.com", "/" + segments("s", "/", 35))).isEqualTo("app.com/" + segments("s", "/", 15));
        unroute("app.com/" + segments("s", "/", 40));
        assertThat(match("app.com", "/" + segments("s", "/", 45))).isEqualTo("app.com/" + segments("s", "/", 15));
        route("app.com/" + segments("s", "/", 16));
        assertThat(match("app.com", "/" + segments("s", "/", 45))).isEqualTo("app.com/" + segments("s", "/", 16));
    }

    @Test
    void shouldMatchWildcardsDeeperThanTheDepthsTrackedOneByOne() {
        route("*." + segments("l", ".", 64));
        route("*." + segments("l", ".", 70));

        assertThat(match("x." + segments("l", ".", 70), "/")).isEqualTo("*." + segments("l", ".", 70));
        assertThat(match("x.y." + segments("l", ".", 64), "/")).isEqualTo("*." + segments("l", ".", 64));
        unroute("*." + segments("l", ".", 70));
        assertThat(match("x." + segments("l", ".", 70), "/")).isNull();
        assertThat(match("x." + segments("l", ".", 64), "/")).isEqualTo("*." + segments("l", ".", 64));
    }

    @Test
    void shouldMatchUpperCaseRequestsBeyondAscii() {
        route("\u03a9MEGA.com/CAF\u00c9");
        route("CAF\u00c9.com");

        assertThat(match("\u03c9mega.COM", "/Caf\u00e9/x")).isEqualTo("\u03c9mega.com/caf\u00e9");
        assertThat(match("\u03a9mega.com", "/caf%C3%89")).isEqualTo("\u03c9mega.com/caf\u00e9");
        assertThat(match("caf\u00c9.com:80", "/")).isEqualTo("caf\u00e9.com");
    }

    @Test
    void shouldFallBackFromAGonePathToTheIpv6HostRoute() {
        route("[::1]:8081/x");
        route("[::1]");

        assertThat(match("::1", "/x/y")).isEqualTo("[::1]/x");
        unroute("[::1]/x");
        assertThat(match("[::1]:8081", "/x/y")).isEqualTo("[::1]");
        unroute("[::1]");
        assertThat(match("[::1]", "/x")).isNull();
        route("[::1]/x");
        assertThat(match("[0:0::1]", "/x")).isNull();
        assertThat(match("[::1]", "/X")).isEqualTo("[::1]/x");
    }

    @Test
    void shouldTellApartKeysThatDifferOnlyInTheirFirstOrLastByteAtEveryLength() {
        // A lookup compares keys eight bytes at a time and masks the last word: every length up to three
        // words, a difference at either end, a host on its own and under a path.
        for (int length = 1; length <= 25; length++) {
            route("h".repeat(length));
            route("p.com/" + "s".repeat(length));
        }
        for (int length = 1; length <= 25; length++) {
            String host = "h".repeat(length);
            String path = "s".repeat(length);
            assertThat(match(host.toUpperCase(), "/")).isEqualTo(host);
            assertThat(match("g" + host.substring(1), "/")).isNull();
            assertThat(match(host.substring(1) + "g", "/")).isNull();
            assertThat(match(host + "h", "/")).isEqualTo(length == 25 ? null : host + "h");
            assertThat(match("p.com", "/" + path + "/x")).isEqualTo("p.com/" + path);
            assertThat(match("p.com", "/" + path.substring(1) + "t")).isNull();
            assertThat(match("p.com", "/t" + path.substring(1))).isNull();
        }
    }

    @Test
    void shouldMatchCharactersOfTwoAndThreeBytesAndSurrogates() {
        // Keys hold lower case: U+0100 becomes U+0101 (two bytes each), U+0800 and U+FFFF take three.
        route("\u00e9\u0100\u07ff\u0800\uffff.com/\ud83d\ude00x");
        route("\u00e9\u0101\u07ff\u0800\ufffe.com");

        assertThat(match("\u00c9\u0101\u07ff\u0800\uffff.com", "/\ud83d\ude00X/y"))
                .isEqualTo("\u00e9\u0101\u07ff\u0800\uffff.com/\ud83d\ude00x");
        assertThat(match("\u00e9\u0101\u07ff\u0800\uffff.com", "/\ud83d\ude01x")).isNull();
        assertThat(match("\u00e9\u0103\u07ff\u0800\ufffe.com", "/")).isNull();
        assertThat(match("\u00e9\u0100\u07ff\u0800\ufffe.COM:1", "/")).isEqualTo("\u00e9\u0101\u07ff\u0800\ufffe.com");
        assertThat(match("\u00e9\u0101\u07ff\u0800\uffff.com", "/\ud83d")).isNull();
    }

    @Test
    void shouldMatchHostsAndPathsLongerThanTheLookupBuffer() {
        // A thread keeps a buffer for the lower-cased request (512 bytes at first, kept up to 16 KB); longer
        // requests grow it or get an array of their own.
        String host = "h".repeat(600) + ".example.com";
        String deep = segments("s", "/", 3_000);
        String wide = "w".repeat(20_000);
        route(host);
        route(host + "/" + deep);
        route("*.example.com/" + wide);

        assertThat(match(host.toUpperCase(), "/")).isEqualTo(host);
        assertThat(match(host, "/" + deep + "/x")).isEqualTo(host + "/" + deep);
        assertThat(match(host, "/" + deep.substring(0, deep.length() - 1))).isEqualTo(host);
        assertThat(match("x.example.com", "/" + wide.toUpperCase() + "?q")).isEqualTo("*.example.com/" + wide);
        assertThat(match("x.example.com", "/" + wide.substring(1))).isNull();
        assertThat(match("app.example.com", "/")).isNull();
    }

    @Test
    void shouldMatchARequestHostThatIsLiterallyAWildcard() {
        route("*.example.com");
        route("app.example.com");

        assertThat(match("*.EXAMPLE.com", "/")).isEqualTo("*.example.com");
        assertThat(match("*.app.example.com", "/")).isEqualTo("*.example.com");
        assertThat(match("*", "/")).isNull();
    }

    // ---- a host that may have path routes probes its path keys first (see DefaultRouteRegistry.pathHosts) ----

    private DefaultRouteRegistry table() {
        return (DefaultRouteRegistry) registry;
    }

    private int hostBucket(String host) {
        return table().pathHostBucket(host);
    }

    /** A host named {@code <prefix><n>.<suffix>} in the same bucket of host hashes as {@code host}. */
    private String hostInTheBucketOf(String host, String prefix, String suffix) {
        int bucket = hostBucket(host);
        for (int n = 0; ; n++) {
            String other = prefix + n + "." + suffix;
            if (!other.equals(host) && hostBucket(other) == bucket) {
                return other;
            }
        }
    }

    @Test
    void shouldFindEachHostsDeepestPathWhenOtherHostsHaveOtherDepths() {
        route("a.com");
        route("a.com/x");
        route("a.com/x/y/z");
        route("b.com/p/q");
        route("c.com/1/2/3/4");

        // Every depth some host has (1-4) is probed first; a.com has no key at 2 or 4 and b.com none at 1, 3, 4.
        assertThat(match("a.com", "/x/y/z/w/v")).isEqualTo("a.com/x/y/z");
        assertThat(match("a.com", "/x/y")).isEqualTo("a.com/x");
        assertThat(match("a.com", "/x/y/q/w")).isEqualTo("a.com/x");
        assertThat(match("a.com", "/q/y/z")).isEqualTo("a.com");
        assertThat(match("A.COM:80", "/X/Y/Z")).isEqualTo("a.com/x/y/z");
        assertThat(match("b.com", "/p/q/r/s")).isEqualTo("b.com/p/q");
        assertThat(match("b.com", "/p")).isNull();
        assertThat(match("c.com", "/1/2/3/4/5")).isEqualTo("c.com/1/2/3/4");
        assertThat(match("c.com", "/1/2/3")).isNull();
    }

    @Test
    void shouldAnswerAHostThatSharesABucketWithAPathHostAsAnyOther() {
        route("api.example.com/v1");
        String exact = hostInTheBucketOf("api.example.com", "app-", "example.com");
        String covered = hostInTheBucketOf("api.example.com", "www-", "tenant.example.com");
        route(exact);
        route(exact + "/other");
        route("*.tenant.example.com");

        assertThat(table().mayHavePathRoutes(exact)).isTrue();
        assertThat(table().mayHavePathRoutes(covered)).isTrue(); // it has no path routes: the bucket's bit is a hint
        assertThat(match(exact, "/v1/x")).isEqualTo(exact);
        assertThat(match(exact, "/other/x")).isEqualTo(exact + "/other");
        assertThat(match(covered, "/v1/x")).isEqualTo("*.tenant.example.com");
        assertThat(match("api.example.com", "/v1/x")).isEqualTo("api.example.com/v1");
        assertThat(match("api.example.com", "/v2")).isNull();
    }

    @Test
    void shouldForgetAPathHostAndADepthWithTheirLastPathRoute() {
        route("solo.example.org");
        assertThat(table().mayHavePathRoutes("solo.example.org")).isFalse();
        route("solo.example.org/a");
        route("solo.example.org/a/b/c");
        route("other.example.org/a/b/c");
        assertThat(table().mayHavePathRoutes("solo.example.org")).isTrue();

        unroute("solo.example.org/a/b/c");
        assertThat(match("solo.example.org", "/a/b/c/d")).isEqualTo("solo.example.org/a");
        assertThat(match("other.example.org", "/a/b/c/d")).isEqualTo("other.example.org/a/b/c");
        unroute("other.example.org/a/b/c");
        assertThat(match("other.example.org", "/a/b/c/d")).isNull();
        unroute("solo.example.org/a");
        assertThat(match("solo.example.org", "/a/b/c/d")).isEqualTo("solo.example.org");
        // No host has path routes now (other.example.org's are gone too): whatever bucket they share, no bit.
        assertThat(table().mayHavePathRoutes("solo.example.org")).isFalse();

        route("solo.example.org/a/b");
        assertThat(table().mayHavePathRoutes("solo.example.org")).isTrue();
        assertThat(match("solo.example.org", "/a/b/c/d")).isEqualTo("solo.example.org/a/b");
    }

    @Test
    void shouldProbeThePathsOfALiteralWildcardHostAndOfAWildcardAlike() {
        route("*.w.com/api");
        route("x.w.com");

        assertThat(match("*.w.com", "/api/v1")).isEqualTo("*.w.com/api");
        assertThat(match("y.w.com", "/api/v1")).isEqualTo("*.w.com/api");
        assertThat(match("x.w.com", "/api/v1")).isEqualTo("x.w.com");
    }
}
