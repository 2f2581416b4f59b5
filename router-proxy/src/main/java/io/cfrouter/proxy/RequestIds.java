package io.cfrouter.proxy;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;

/**
 * {@code X-Vcap-Request-Id} values: random (version 4, IETF variant) UUIDs in their usual 36-character form.
 *
 * <p>The id only has to be unique, not secret: it correlates the access log, the backend's log and the
 * client's report of one request. {@link ThreadLocalRandom} gives 122 random bits per id with no lock, where
 * {@link java.util.UUID#randomUUID()} takes {@code SecureRandom}'s global lock and reads the kernel's pool on
 * every request. Its sequence is predictable to whoever sees enough ids, which does not matter for a
 * correlation id. Each thread's generator is seeded differently, so threads do not repeat each other.
 */
final class RequestIds {

    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    private RequestIds() {
    }

    /** A new id; safe to call from any thread. */
    static String next() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long msb = random.nextLong();
        long lsb = random.nextLong();
        msb = msb & ~0xF000L | 0x4000L; // version 4
        lsb = lsb & 0x3FFFFFFFFFFFFFFFL | 0x8000000000000000L; // IETF variant
        return format(msb, lsb);
    }

    /** {@code msb} and {@code lsb} as {@code xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}, lower-case hex. */
    static String format(long msb, long lsb) {
        byte[] b = new byte[36];
        hex(b, 0, msb >>> 32, 8);
        b[8] = '-';
        hex(b, 9, msb >>> 16, 4);
        b[13] = '-';
        hex(b, 14, msb, 4);
        b[18] = '-';
        hex(b, 19, lsb >>> 48, 4);
        b[23] = '-';
        hex(b, 24, lsb, 12);
        // ISO-8859-1 keeps the bytes as they are (a compact Latin-1 string, no decoding loop).
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    private static void hex(byte[] b, int at, long value, int digits) {
        for (int i = at + digits - 1; i >= at; i--) {
            b[i] = HEX[(int) value & 0xF];
            value >>>= 4;
        }
    }
}
