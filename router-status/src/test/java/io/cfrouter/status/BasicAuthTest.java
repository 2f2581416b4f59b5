package io.cfrouter.status;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;

class BasicAuthTest {

    private final BasicAuth auth = new BasicAuth("admin", "s3cret");

    @Test
    void shouldAcceptTheRightCredentials() {
        assertThat(auth.accepts(basic("admin:s3cret"))).isTrue();
    }

    @Test
    void shouldAcceptTheSchemeInAnyCaseAndSurroundingSpace() {
        assertThat(auth.accepts("  bAsIc   " + encode("admin:s3cret") + " ")).isTrue();
    }

    @Test
    void shouldRefuseAMissingHeader() {
        assertThat(auth.accepts(null)).isFalse();
        assertThat(auth.accepts("")).isFalse();
    }

    @Test
    void shouldRefuseAWrongPasswordOrUser() {
        assertThat(auth.accepts(basic("admin:s3creT"))).isFalse();
        assertThat(auth.accepts(basic("Admin:s3cret"))).isFalse();
    }

    @Test
    void shouldRefuseCredentialsOfTheWrongLength() {
        assertThat(auth.accepts(basic("admin:s3cre"))).isFalse();
        assertThat(auth.accepts(basic("admin:s3crett"))).isFalse();
        assertThat(auth.accepts(basic(""))).isFalse();
    }

    @Test
    void shouldRefuseOtherSchemesAndMalformedValues() {
        assertThat(auth.accepts("Bearer " + encode("admin:s3cret"))).isFalse();
        assertThat(auth.accepts("Basic")).isFalse();
        assertThat(auth.accepts("Basic !!not-base64!!")).isFalse();
        assertThat(auth.accepts(encode("admin:s3cret"))).isFalse();
    }

    @Test
    void shouldRefuseTheEmptyCredentialsEvenWhenNoneAreConfigured() {
        BasicAuth open = new BasicAuth("", "");
        assertThat(open.accepts(null)).isFalse();
        assertThat(open.accepts(basic(":"))).isTrue();
    }

    static String basic(String credentials) {
        return "Basic " + encode(credentials);
    }

    private static String encode(String credentials) {
        return Base64.getEncoder().encodeToString(credentials.getBytes(StandardCharsets.UTF_8));
    }
}
