package io.cfrouter.proxy;

import io.undertow.util.HttpString;

import java.util.Arrays;

/**
 * A growing byte array that message heads are written into: request and status lines, header fields,
 * header bytes copied as they came. Strings are ISO-8859-1 (one char, one byte), as Undertow makes header
 * values and URIs from the bytes of a head.
 *
 * <p>Not thread-safe and reused: the bytes are valid until the next {@link #clear()}.
 */
class HeadBuilder {

    private byte[] b;
    private int n;

    HeadBuilder() {
        this(4096);
    }

    /** A builder that starts with room for {@code capacity} bytes (and grows). */
    HeadBuilder(int capacity) {
        b = new byte[capacity];
    }

    /** The head's bytes, {@code [0, length())}. */
    final byte[] bytes() {
        return b;
    }

    final int length() {
        return n;
    }

    final void clear() {
        n = 0;
    }

    /** A header field line: {@code name: value CRLF}. */
    final void field(HttpString name, String value) {
        fieldName(name);
        put(value);
        crlf();
    }

    final void crlf() {
        put((byte) '\r');
        put((byte) '\n');
    }

    final void put(byte c) {
        ensure(1);
        b[n++] = c;
    }

    final void put(byte[] bytes) {
        put(bytes, 0, bytes.length);
    }

    final void put(byte[] bytes, int from, int length) {
        ensure(length);
        System.arraycopy(bytes, from, b, n, length);
        n += length;
    }

    final void put(HttpString s) {
        ensure(s.length());
        s.copyTo(b, n);
        n += s.length();
    }

    /** Each char of {@code s} as one byte, copied in bulk. */
    @SuppressWarnings("deprecation") // String.getBytes(int, int, byte[], int): exactly the low byte of each char
    final void put(String s) {
        int length = s.length();
        ensure(length);
        s.getBytes(0, length, b, n);
        n += length;
    }

    /** A header field line with a decimal value, written without making a string of it. */
    final void field(HttpString name, long value) {
        fieldName(name);
        put(value);
        crlf();
    }

    private void fieldName(HttpString name) {
        put(name);
        put((byte) ':');
        put((byte) ' ');
    }

    /** {@code v} in decimal, written in place (no string made). */
    final void put(long v) {
        if (v < 0) {
            if (v == Long.MIN_VALUE) {
                put(Long.toString(v)); // no positive counterpart
                return;
            }
            put((byte) '-');
            v = -v;
        }
        int digits = 1;
        for (long rest = v / 10; rest != 0; rest /= 10) {
            digits++;
        }
        ensure(digits);
        for (int i = n + digits - 1; i >= n; i--) {
            b[i] = (byte) ('0' + v % 10);
            v /= 10;
        }
        n += digits;
    }

    private void ensure(int more) {
        if (n + more > b.length) {
            b = Arrays.copyOf(b, Math.max(b.length * 2, n + more));
        }
    }

    /** Gives back an array grown for an unusually large head, so that one such head does not pin it. */
    final void trim() {
        if (b.length > 64 * 1024) {
            b = new byte[4096];
            n = 0;
        }
    }
}
