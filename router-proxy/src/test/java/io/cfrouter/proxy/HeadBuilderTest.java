package io.cfrouter.proxy;

import io.undertow.util.HttpString;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class HeadBuilderTest {

    private static String text(HeadBuilder b) {
        return new String(b.bytes(), 0, b.length(), StandardCharsets.ISO_8859_1);
    }

    @Test
    void shouldWriteNumbersInDecimalAsLongToStringDoes() {
        long[] values = {0, 7, 9, 10, 99, 100, 1_732_822_800_123L, -1, -10, Long.MAX_VALUE, Long.MIN_VALUE};
        for (long v : values) {
            HeadBuilder b = new HeadBuilder(1);
            b.put((byte) '<');
            b.put(v);
            b.put((byte) '>');
            assertThat(text(b)).as("%d", v).isEqualTo("<" + v + ">");
        }
    }

    @Test
    void shouldWriteAFieldWithANumberAsItsValue() {
        HeadBuilder b = new HeadBuilder(4);
        b.field(new HttpString("X-Request-Start"), 1_732_822_800_123L);
        assertThat(text(b)).isEqualTo("X-Request-Start: 1732822800123\r\n");
    }
}
