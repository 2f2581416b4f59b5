package io.cfrouter.proxy;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

class RequestIdsTest {

    @Test
    void shouldFormatLikeUuidToString() {
        long[][] cases = {{0L, 0L}, {-1L, -1L}, {0x0123456789abcdefL, 0xfedcba9876543210L}, {1L, Long.MIN_VALUE}};
        for (long[] c : cases) {
            assertThat(RequestIds.format(c[0], c[1])).isEqualTo(new UUID(c[0], c[1]).toString());
        }
    }

    @Test
    void shouldGenerateVersionFourIetfVariantUuids() {
        for (int i = 0; i < 1000; i++) {
            UUID id = UUID.fromString(RequestIds.next());
            assertThat(id.version()).isEqualTo(4);
            assertThat(id.variant()).isEqualTo(2);
        }
    }

    @Test
    void shouldNotRepeatIds() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 100_000; i++) {
            assertThat(seen.add(RequestIds.next())).isTrue();
        }
    }
}
