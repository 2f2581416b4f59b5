package io.cfrouter.registry;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The canonicaliser's string cache: equal strings come back as the one cached, others take the slot. */
class EndpointCanonicaliserTest {

    private final EndpointCanonicaliser canonicaliser = new EndpointCanonicaliser();

    @Test
    void shouldReturnTheCachedStringForAnEqualOne() {
        String first = new String("10.0.1.17");
        String again = new String("10.0.1.17");

        assertThat(canonicaliser.string(first)).isSameAs(first);
        assertThat(canonicaliser.string(again)).isSameAs(first);
    }

    @Test
    void shouldKeepStringsApartThatShareAHash() {
        // "Aa" and "BB" have the same String.hashCode, so the same slot and the same kept hash.
        String aa = new String("Aa");
        String bb = new String("BB");

        assertThat(canonicaliser.string(aa)).isSameAs(aa);
        assertThat(canonicaliser.string(bb)).isSameAs(bb);
        assertThat(canonicaliser.string(new String("BB"))).isSameAs(bb);
    }
}
