package io.cfrouter.status;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;

/**
 * Checks an {@code Authorization: Basic} header against one user and password. The given credentials and
 * the expected ones are both reduced to SHA-256 digests and the digests compared in constant time, so the
 * time taken reveals neither how much of the secret matched nor how long it is. Thread-safe.
 */
final class BasicAuth {

    private final byte[] expectedDigest;

    BasicAuth(String user, String pass) {
        this.expectedDigest = sha256((user + ":" + pass).getBytes(StandardCharsets.UTF_8));
    }

    /** Whether {@code authorization} (the header's value, or {@code null}) carries the right credentials. */
    boolean accepts(String authorization) {
        byte[] given = decode(authorization);
        // Digest even a missing or malformed header, so that every refusal costs the same.
        boolean equal = MessageDigest.isEqual(sha256(given == null ? new byte[0] : given), expectedDigest);
        return given != null && equal;
    }

    /** The decoded {@code user:pass} bytes, or {@code null} when the header is absent or not Basic. */
    private static byte[] decode(String authorization) {
        if (authorization == null) {
            return null;
        }
        String value = authorization.strip();
        int space = value.indexOf(' ');
        // The scheme name is case-insensitive (RFC 7617 section 2).
        if (space < 0 || !value.substring(0, space).equalsIgnoreCase("Basic")) {
            return null;
        }
        try {
            return Base64.getDecoder().decode(value.substring(space + 1).strip());
        } catch (IllegalArgumentException notBase64) {
            return null;
        }
    }

    private static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
    }
}
