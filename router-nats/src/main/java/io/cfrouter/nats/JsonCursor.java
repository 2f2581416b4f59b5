package io.cfrouter.nats;

/**
 * A strict (RFC 8259) JSON reader over UTF-8 bytes, just enough for registry messages: it walks values
 * without building a tree, decodes strings with full UTF-8 validation, and bounds nesting. It exists
 * because decoding with a general-purpose tree parser cost as much as applying the message to the table
 * and allocated over 5 KB per message; this allocates little beyond the strings it returns.
 *
 * <p>Not thread-safe; one instance reads one message. Every failure is a {@link Malformed} whose message
 * says what is wrong and where.
 */
final class JsonCursor {

    static final int MAX_DEPTH = 64;

    /** The kinds of JSON value, as told by their first byte. */
    enum Kind { OBJECT, ARRAY, STRING, NUMBER, TRUE, FALSE, NULL }

    /** Malformed JSON (or invalid UTF-8 inside a string). */
    static final class Malformed extends RuntimeException {
        Malformed(String message) {
            super(message, null, false, false);
        }
    }

    private final byte[] in;
    private final int end;
    private int pos;

    JsonCursor(byte[] in, int from, int to) {
        this.in = in;
        this.pos = from;
        this.end = to;
    }

    int position() {
        return pos;
    }

    /** Skips whitespace and tells the kind of the next value without consuming it. */
    Kind peek() {
        skipWhitespace();
        if (pos >= end) {
            throw malformed("unexpected end of input");
        }
        return switch (in[pos]) {
            case '{' -> Kind.OBJECT;
            case '[' -> Kind.ARRAY;
            case '"' -> Kind.STRING;
            case 't' -> Kind.TRUE;
            case 'f' -> Kind.FALSE;
            case 'n' -> Kind.NULL;
            case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9' -> Kind.NUMBER;
            default -> throw malformed("unexpected character");
        };
    }

    /** Whether only whitespace is left. */
    boolean atEnd() {
        skipWhitespace();
        return pos >= end;
    }

    /** Consumes {@code {}: afterwards call {@link #nextKey()} until it returns null. */
    void beginObject() {
        expect('{');
    }

    /** Consumes {@code [}: afterwards call {@link #hasNextElement()} before each element. */
    void beginArray() {
        expect('[');
    }

    /**
     * The next key of the current object (consuming it and its colon), or null when the object ended
     * (consuming the closing brace).
     */
    String nextKey(boolean first) {
        if (!beforeKey(first)) {
            return null;
        }
        String key = nextString();
        expect(':');
        return key;
    }

    /** {@link #nextKeyIndex}'s answer when the object ended. */
    static final int END = -2;
    /** {@link #nextKeyIndex}'s answer for a key not among those asked for. */
    static final int OTHER = -1;

    /**
     * Like {@link #nextKey}, but tells which of {@code keys} (ASCII, without escapes) the key is, building no
     * string unless the key has escapes or non-ASCII characters.
     *
     * @return the index of the key in {@code keys}, {@link #OTHER}, or {@link #END} when the object ended
     */
    int nextKeyIndex(boolean first, String[] keys) {
        if (!beforeKey(first)) {
            return END;
        }
        int start = pos + 1;
        int i = start;
        int hash = 0; // String.hashCode's, which for ASCII is over the bytes
        while (i < end) {
            byte b = in[i];
            if (b == '"') {
                pos = i + 1;
                expect(':');
                return indexOf(keys, hash, start, i - start);
            }
            hash = 31 * hash + b;
            if (b == '\\' || b < 0x20) { // an escape, a control character, or a byte of a multi-byte sequence
                break;
            }
            i++;
        }
        String key = nextString();
        expect(':');
        for (int k = 0; k < keys.length; k++) {
            if (keys[k].equals(key)) {
                return k;
            }
        }
        return OTHER;
    }

    private int indexOf(String[] keys, int hash, int from, int length) {
        for (int k = 0; k < keys.length; k++) {
            String key = keys[k];
            if (key.hashCode() == hash && key.length() == length && matches(key, from)) {
                return k;
            }
        }
        return OTHER;
    }

    private boolean matches(String key, int from) {
        for (int j = 0; j < key.length(); j++) {
            if (in[from + j] != key.charAt(j)) {
                return false;
            }
        }
        return true;
    }

    /** Moves to the opening quote of the next key; false (the brace consumed) when the object ended. */
    private boolean beforeKey(boolean first) {
        skipWhitespace();
        if (pos < end && in[pos] == '}') {
            pos++;
            return false;
        }
        if (!first) {
            expect(',');
            skipWhitespace();
        }
        if (pos >= end || in[pos] != '"') {
            throw malformed("expected a key");
        }
        return true;
    }

    /** Checks the next key and moves past it and its colon, building nothing; false when the object ended. */
    private boolean skipKey(boolean first) {
        if (!beforeKey(first)) {
            return false;
        }
        skipString();
        expect(':');
        return true;
    }

    /** Moves to {@code position}, e.g. one that {@link #skipValue()} returned, to read that value. */
    void seek(int position) {
        pos = position;
    }

    /** Whether the current array has another element (consuming the comma), else consumes the bracket. */
    boolean hasNextElement(boolean first) {
        skipWhitespace();
        if (pos < end && in[pos] == ']') {
            pos++;
            return false;
        }
        if (!first) {
            expect(',');
        }
        return true;
    }

    /** Checks a string value and moves past it, building nothing. */
    private void skipString() {
        pos++; // the opening quote, seen by peek()
        while (pos < end) {
            int b = in[pos] & 0xff;
            if (b == '"') {
                pos++;
                return;
            }
            if (b < 0x20) {
                throw malformed("control character in a string");
            }
            if (b == '\\') {
                pos++;
                escape(null);
            } else if (b < 0x80) {
                pos++;
            } else {
                utf8();
            }
        }
        throw malformed("unterminated string");
    }

    /** Reads a string value. */
    String nextString() {
        skipWhitespace();
        if (pos >= end || in[pos] != '"') {
            throw malformed("expected a string");
        }
        pos++;
        int start = pos;
        // Fast path: plain ASCII without escapes needs no decoding.
        while (pos < end) {
            byte b = in[pos];
            if (b == '"') {
                String s = new String(in, start, pos - start, java.nio.charset.StandardCharsets.ISO_8859_1);
                pos++;
                return s;
            }
            if (b == '\\' || b < 0x20) {
                break;
            }
            pos++;
        }
        pos = start;
        return slowString();
    }

    private String slowString() {
        StringBuilder sb = new StringBuilder();
        while (true) {
            if (pos >= end) {
                throw malformed("unterminated string");
            }
            int b = in[pos] & 0xff;
            if (b == '"') {
                pos++;
                return sb.toString();
            }
            if (b < 0x20) {
                throw malformed("control character in a string");
            }
            if (b == '\\') {
                pos++;
                escape(sb);
            } else if (b < 0x80) {
                sb.append((char) b);
                pos++;
            } else {
                sb.appendCodePoint(utf8());
            }
        }
    }

    /** Reads one escape after its backslash, appending it to {@code sb} unless null. */
    private void escape(StringBuilder sb) {
        if (pos >= end) {
            throw malformed("unterminated escape");
        }
        byte c = in[pos++];
        char decoded = switch (c) {
            case '"' -> '"';
            case '\\' -> '\\';
            case '/' -> '/';
            case 'b' -> '\b';
            case 'f' -> '\f';
            case 'n' -> '\n';
            case 'r' -> '\r';
            case 't' -> '\t';
            case 'u' -> unicodeEscape();
            default -> throw malformed("bad escape");
        };
        if (sb != null) {
            sb.append(decoded);
        }
    }

    private char unicodeEscape() {
        if (pos + 4 > end) {
            throw malformed("short \\u escape");
        }
        int v = 0;
        for (int i = 0; i < 4; i++) {
            int d = Character.digit(in[pos++], 16);
            if (d < 0) {
                throw malformed("bad \\u escape");
            }
            v = v << 4 | d;
        }
        return (char) v;
    }

    /** Decodes one multi-byte UTF-8 sequence at pos, refusing overlong forms, surrogates and > U+10FFFF. */
    private int utf8() {
        int b0 = in[pos] & 0xff;
        int n;
        int cp;
        int min;
        if (b0 >= 0xc2 && b0 <= 0xdf) {
            n = 1;
            cp = b0 & 0x1f;
            min = 0x80;
        } else if (b0 >= 0xe0 && b0 <= 0xef) {
            n = 2;
            cp = b0 & 0x0f;
            min = 0x800;
        } else if (b0 >= 0xf0 && b0 <= 0xf4) {
            n = 3;
            cp = b0 & 0x07;
            min = 0x10000;
        } else {
            throw new InvalidUtf8();
        }
        if (pos + n >= end) {
            throw new InvalidUtf8();
        }
        for (int i = 1; i <= n; i++) {
            int b = in[pos + i] & 0xff;
            if ((b & 0xc0) != 0x80) {
                throw new InvalidUtf8();
            }
            cp = cp << 6 | (b & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            throw new InvalidUtf8();
        }
        pos += n + 1;
        return cp;
    }

    /** Invalid UTF-8: told apart from malformed JSON, for the reason given. */
    static final class InvalidUtf8 extends RuntimeException {
        InvalidUtf8() {
            super("invalid UTF-8", null, false, false);
        }
    }

    /**
     * Reads a number's literal text (validated against the JSON grammar), e.g. {@code -12.5e3}.
     */
    String nextNumber() {
        skipWhitespace();
        int start = pos;
        skipNumber();
        return new String(in, start, pos - start, java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    /** {@link #nextLong()}'s answer for a number that is not a plain integer of at most 18 digits. */
    static final long NOT_PLAIN = Long.MIN_VALUE;

    /**
     * Reads a number that is a plain integer of at most 18 digits ({@code -?[0-9]+}, valid JSON) without
     * building a string; anything else (a fraction, an exponent, more digits) is left unread and
     * {@link #NOT_PLAIN} returned, for {@link #nextNumber()} to read.
     */
    long nextLong() {
        skipWhitespace();
        int start = pos;
        int i = start < end && in[start] == '-' ? start + 1 : start;
        int digitsFrom = i;
        long value = 0;
        while (i < end && in[i] >= '0' && in[i] <= '9' && i - digitsFrom < 18) {
            value = value * 10 + (in[i] - '0');
            i++;
        }
        int digits = i - digitsFrom;
        boolean plain = digits > 0 && (digits == 1 || in[digitsFrom] != '0')
                && (i >= end || (in[i] != '.' && in[i] != 'e' && in[i] != 'E' && (in[i] < '0' || in[i] > '9')));
        if (!plain) {
            return NOT_PLAIN;
        }
        pos = i;
        return in[start] == '-' ? -value : value;
    }

    private void skipNumber() {
        if (pos < end && in[pos] == '-') {
            pos++;
        }
        if (pos < end && in[pos] == '0') {
            pos++;
        } else if (!digits()) {
            throw malformed("bad number");
        }
        if (pos < end && in[pos] == '.') {
            pos++;
            if (!digits()) {
                throw malformed("bad number");
            }
        }
        if (pos < end && (in[pos] == 'e' || in[pos] == 'E')) {
            pos++;
            if (pos < end && (in[pos] == '+' || in[pos] == '-')) {
                pos++;
            }
            if (!digits()) {
                throw malformed("bad number");
            }
        }
    }

    private boolean digits() {
        int start = pos;
        while (pos < end && in[pos] >= '0' && in[pos] <= '9') {
            pos++;
        }
        return pos > start;
    }

    /** Skips one value of any kind, checking its syntax; returns its source text span start. */
    int skipValue() {
        int start = skipWhitespaceAndMark();
        skipValue(0);
        return start;
    }

    private int skipWhitespaceAndMark() {
        skipWhitespace();
        return pos;
    }

    private void skipValue(int depth) {
        switch (peek()) {
            case OBJECT -> {
                if (depth >= MAX_DEPTH) {
                    throw malformed("nested too deeply");
                }
                beginObject();
                for (boolean first = true; skipKey(first); first = false) {
                    skipValue(depth + 1);
                }
            }
            case ARRAY -> {
                if (depth >= MAX_DEPTH) {
                    throw malformed("nested too deeply");
                }
                beginArray();
                for (boolean first = true; hasNextElement(first); first = false) {
                    skipValue(depth + 1);
                }
            }
            case STRING -> skipString();
            case NUMBER -> skipNumber();
            case TRUE -> literal("true");
            case FALSE -> literal("false");
            case NULL -> literal("null");
        }
    }

    /** Consumes {@code null}. */
    void nextNull() {
        skipWhitespace();
        literal("null");
    }

    private void literal(String word) {
        if (pos + word.length() > end) {
            throw malformed("unexpected end of input");
        }
        for (int i = 0; i < word.length(); i++) {
            if (in[pos + i] != word.charAt(i)) {
                throw malformed("unexpected character");
            }
        }
        pos += word.length();
    }

    /** The source text of {@code [from, pos)}, shortened for messages. */
    String text(int from) {
        int to = Math.min(pos, from + 41);
        String s = new String(in, from, to - from, java.nio.charset.StandardCharsets.UTF_8);
        return pos - from > 40 ? s.substring(0, Math.min(s.length(), 40)) + "..." : s;
    }

    private void expect(char c) {
        skipWhitespace();
        if (pos >= end || in[pos] != c) {
            throw malformed(pos >= end ? "unexpected end of input" : "expected '" + c + "'");
        }
        pos++;
    }

    private void skipWhitespace() {
        while (pos < end) {
            byte b = in[pos];
            if (b != ' ' && b != '\n' && b != '\r' && b != '\t') {
                return;
            }
            pos++;
        }
    }

    private Malformed malformed(String what) {
        return new Malformed(what + " at byte " + pos);
    }
}
