package io.cfrouter.proxy;

import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A backend's response head (status line and header fields, RFC 9112 §4 and §5), parsed straight from its
 * bytes for the pass-through forwarder. The parser keeps only what decides the framing and the reuse of the
 * connection ({@code Content-Length}, {@code Transfer-Encoding: chunked}, {@code Connection}, the version)
 * and leaves out the hop-by-hop fields; the others go to the client's response headers as they came, names
 * in their case, values byte for byte.
 *
 * <p>Strict where a lenient reading could let the router and the client disagree on where a response ends:
 * a folded line (obs-fold), a field name with a space before the colon or a character outside a token,
 * control characters in a value, a bare CR, conflicting {@code Content-Length}s and a transfer coding other
 * than {@code chunked} are refused (the answer is 502). Lines may end in CRLF or a bare LF.
 *
 * <p>Not thread-safe and reused: one per I/O thread. {@link #parse} then {@link #addTo} over the same bytes.
 */
final class ResponseHead {

    private static final byte[] HTTP_1 = "HTTP/1.".getBytes(StandardCharsets.US_ASCII);
    private static final boolean[] TCHAR = new boolean[256];
    /** Recently seen field names, by their exact bytes: one {@link HttpString} per name, not one per response. */
    private static final Name[] NAMES = new Name[1024];

    static {
        for (char c = '0'; c <= '9'; c++) {
            TCHAR[c] = true;
        }
        for (char c = 'a'; c <= 'z'; c++) {
            TCHAR[c] = true;
            TCHAR[c - 'a' + 'A'] = true;
        }
        for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
            TCHAR[c] = true;
        }
        // Undertow's own names first: a lookup with the same instance ends at ==, not at a byte compare.
        for (java.lang.reflect.Field f : Headers.class.getFields()) {
            if (f.getType() == HttpString.class && java.lang.reflect.Modifier.isStatic(f.getModifiers())) {
                try {
                    HttpString known = (HttpString) f.get(null);
                    byte[] bytes = known.toString().getBytes(StandardCharsets.ISO_8859_1);
                    NAMES[slot(bytes, 0, bytes.length)] = new Name(bytes, known);
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    /** The status code. */
    int status;
    /** {@code Content-Length}, or -1 when absent (or overridden by {@code chunked}). */
    long contentLength;
    /** {@code Transfer-Encoding: chunked}. */
    boolean chunked;
    /** The backend closes the connection after this response ({@code Connection: close}, or HTTP/1.0). */
    boolean close;
    /** Why {@link #parse} refused the head. */
    String problem;
    /**
     * The kept fields include a {@code Set-Cookie} / an {@code X-Vcap-Request-Id}: known from the parse, so
     * that the contract's changes to the response need not look for them in a {@link HeaderMap}.
     */
    boolean setCookie;
    boolean requestId;
    /** The kept fields include a {@code Date}. */
    boolean date;

    /** Per kept field: name start, name end, value start, value end. */
    private int[] fields = new int[4 * 32];
    private int count;
    /** Field names a {@code Connection} header listed (rare): not forwarded. */
    private List<String> connectionNames;

    /**
     * Where the head in {@code b[0, to)} ends: the index just past its empty line, or -1 while it is
     * incomplete. Scanning starts at {@code from}; after a -1, call again with {@code max(0, to - 2)}.
     */
    static int end(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] == '\n') {
                if (i + 1 < to && b[i + 1] == '\n') {
                    return i + 2;
                }
                if (i + 2 < to && b[i + 1] == '\r' && b[i + 2] == '\n') {
                    return i + 3;
                }
            }
        }
        return -1;
    }

    /**
     * Parses the complete head {@code b[0, end)} ({@code end} from {@link #end}). For an interim (1xx) head
     * only the status is read.
     *
     * @return false for a head the router refuses ({@link #problem} says why)
     */
    boolean parse(byte[] b, int end) {
        status = 0;
        contentLength = -1;
        chunked = false;
        close = false;
        problem = null;
        setCookie = false;
        requestId = false;
        date = false;
        count = 0;
        connectionNames = null;
        if (end < 13 || !regionEquals(b, 0, HTTP_1) || (b[7] != '0' && b[7] != '1') || b[8] != ' '
                || !isDigit(b[9]) || !isDigit(b[10]) || !isDigit(b[11])
                || (b[12] != ' ' && b[12] != '\r' && b[12] != '\n')) {
            return refuse("malformed status line");
        }
        boolean http10 = b[7] == '0';
        status = (b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0');
        if (status < 100) {
            return refuse("status " + status);
        }
        int pos = lineEnd(b, 12, end);
        if (pos < 0) {
            return refuse("control character in the reason phrase");
        }
        if (status < 200) {
            return true;
        }
        boolean keepAlive = false;
        while (true) {
            if (b[pos] == '\n') {
                break;
            }
            if (b[pos] == '\r') {
                if (b[pos + 1] != '\n') {
                    return refuse("bare CR");
                }
                break;
            }
            if (b[pos] == ' ' || b[pos] == '\t') {
                return refuse("folded header line (obs-fold)");
            }
            int nameStart = pos;
            while (TCHAR[b[pos] & 0xff]) {
                pos++;
            }
            int nameEnd = pos;
            if (nameEnd == nameStart || b[pos] != ':') {
                return refuse("malformed header name");
            }
            pos++;
            while (b[pos] == ' ' || b[pos] == '\t') {
                pos++;
            }
            int valueStart = pos;
            int next = lineEnd(b, pos, end);
            if (next < 0) {
                return refuse("control character in a header value");
            }
            int valueEnd = next - (b[next - 2] == '\r' ? 2 : 1);
            while (valueEnd > valueStart && (b[valueEnd - 1] == ' ' || b[valueEnd - 1] == '\t')) {
                valueEnd--;
            }
            pos = next;
            int nameLength = nameEnd - nameStart;
            if (is(b, nameStart, nameLength, "content-length")) {
                long length = digits(b, valueStart, valueEnd);
                if (length < 0 || (contentLength >= 0 && length != contentLength)) {
                    return refuse("invalid or conflicting Content-Length");
                }
                if (contentLength >= 0) {
                    continue; // the same value again: forwarded once
                }
                contentLength = length;
            } else if (is(b, nameStart, nameLength, "transfer-encoding")) {
                if (chunked || !is(b, valueStart, valueEnd - valueStart, "chunked")) {
                    return refuse("transfer coding other than chunked");
                }
                chunked = true;
                continue;
            } else if (is(b, nameStart, nameLength, "connection")) {
                keepAlive |= connection(b, valueStart, valueEnd);
                continue;
            } else if (is(b, nameStart, nameLength, "keep-alive") || is(b, nameStart, nameLength, "te")
                    || is(b, nameStart, nameLength, "trailer") || is(b, nameStart, nameLength, "upgrade")
                    || (nameLength > 6 && is(b, nameStart, 6, "proxy-"))) {
                continue;
            }
            setCookie |= is(b, nameStart, nameLength, "set-cookie");
            requestId |= is(b, nameStart, nameLength, "x-vcap-request-id");
            date |= is(b, nameStart, nameLength, "date");
            keep(nameStart, nameEnd, valueStart, valueEnd);
        }
        if (connectionNames != null) {
            for (String name : connectionNames) { // addTo drops the fields Connection names
                setCookie &= !name.equalsIgnoreCase("set-cookie");
                date &= !name.equalsIgnoreCase("date");
                requestId &= !name.equalsIgnoreCase("x-vcap-request-id");
            }
        }
        if (http10 && !keepAlive) {
            close = true;
        }
        if (chunked && contentLength >= 0) {
            contentLength = -1; // RFC 9112 §6.3: chunked wins, and the length is not forwarded
            dropContentLength(b);
        }
        return true;
    }

    /** Adds the kept fields of the head {@link #parse} accepted to {@code target}. */
    void addTo(byte[] b, HeaderMap target) {
        int[] f = fields;
        for (int i = 0; i < 4 * count; i += 4) {
            target.add(name(b, f[i], f[i + 1] - f[i]),
                    new String(b, f[i + 2], f[i + 3] - f[i + 2], StandardCharsets.ISO_8859_1));
        }
        if (connectionNames != null) {
            for (String name : connectionNames) {
                target.remove(name);
            }
        }
    }

    /** Writes the kept fields of the head {@link #parse} accepted as {@code name: value} lines, as they came. */
    void writeTo(byte[] b, HeadBuilder out) {
        int[] f = fields;
        for (int i = 0; i < 4 * count; i += 4) {
            if (connectionNames != null && namedByConnection(b, f[i], f[i + 1] - f[i])) {
                continue;
            }
            out.put(b, f[i], f[i + 1] - f[i]);
            out.put((byte) ':');
            out.put((byte) ' ');
            out.put(b, f[i + 2], f[i + 3] - f[i + 2]);
            out.crlf();
        }
    }

    /** The kept {@code Set-Cookie} values, in order (call only when {@link #setCookie}). */
    HeaderValues setCookies(byte[] b) {
        HeaderMap map = new HeaderMap();
        int[] f = fields;
        for (int i = 0; i < 4 * count; i += 4) {
            if (is(b, f[i], f[i + 1] - f[i], "set-cookie")) {
                map.add(Headers.SET_COOKIE, new String(b, f[i + 2], f[i + 3] - f[i + 2], StandardCharsets.ISO_8859_1));
            }
        }
        return map.get(Headers.SET_COOKIE);
    }

    private boolean namedByConnection(byte[] b, int from, int length) {
        for (String name : connectionNames) {
            if (length == name.length() && new String(b, from, length, StandardCharsets.ISO_8859_1).equalsIgnoreCase(name)) {
                return true;
            }
        }
        return false;
    }

    private boolean refuse(String why) {
        problem = why;
        return false;
    }

    private void keep(int nameStart, int nameEnd, int valueStart, int valueEnd) {
        if (4 * count + 4 > fields.length) {
            fields = java.util.Arrays.copyOf(fields, fields.length * 2);
        }
        int i = 4 * count++;
        fields[i] = nameStart;
        fields[i + 1] = nameEnd;
        fields[i + 2] = valueStart;
        fields[i + 3] = valueEnd;
    }

    private void dropContentLength(byte[] b) {
        int kept = 0;
        for (int i = 0; i < count; i++) {
            int at = 4 * i;
            if (!is(b, fields[at], fields[at + 1] - fields[at], "content-length")) {
                System.arraycopy(fields, at, fields, 4 * kept++, 4);
            }
        }
        count = kept;
    }

    /** Reads a {@code Connection} value's tokens; returns whether it holds {@code keep-alive}. */
    private boolean connection(byte[] b, int from, int to) {
        int options = connectionOptions(b, from, to, null);
        close |= (options & CLOSE) != 0;
        if ((options & OTHER) != 0) {
            if (connectionNames == null) {
                connectionNames = new ArrayList<>(2);
            }
            connectionOptions(b, from, to, connectionNames);
        }
        return (options & KEEP_ALIVE) != 0;
    }

    /** {@link #connectionOptions}: the value holds {@code close}, {@code keep-alive}, another token. */
    static final int CLOSE = 1;
    static final int KEEP_ALIVE = 2;
    static final int OTHER = 4;

    /**
     * The tokens of the {@code Connection} value {@code b[from, to)} (a comma-separated list, blanks around
     * its items ignored), as {@link #CLOSE}, {@link #KEEP_ALIVE} and {@link #OTHER} bits; the other tokens are
     * added to {@code others} unless it is null.
     */
    static int connectionOptions(byte[] b, int from, int to, List<String> others) {
        int options = 0;
        int i = from;
        while (i < to) {
            int comma = i;
            while (comma < to && b[comma] != ',') {
                comma++;
            }
            int s = i;
            int e = comma;
            while (s < e && (b[s] == ' ' || b[s] == '\t')) {
                s++;
            }
            while (e > s && (b[e - 1] == ' ' || b[e - 1] == '\t')) {
                e--;
            }
            if (is(b, s, e - s, "close")) {
                options |= CLOSE;
            } else if (is(b, s, e - s, "keep-alive")) {
                options |= KEEP_ALIVE;
            } else if (e > s) {
                options |= OTHER;
                if (others != null) {
                    others.add(new String(b, s, e - s, StandardCharsets.ISO_8859_1));
                }
            }
            i = comma + 1;
        }
        return options;
    }

    /**
     * The index after the line end (CRLF or LF) that follows {@code from}, checking the bytes before it: no
     * control characters but HTAB, no bare CR. -1 if one is found.
     */
    private static int lineEnd(byte[] b, int from, int end) {
        for (int i = from; i < end; i++) {
            int c = b[i] & 0xff;
            if (c == '\n') {
                return i + 1;
            }
            if (c == '\r') {
                return i + 1 < end && b[i + 1] == '\n' ? i + 2 : -1;
            }
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                return -1;
            }
        }
        return -1;
    }

    /** Whether {@code b} holds {@code part} from index {@code from} (the caller knows it is long enough). */
    static boolean regionEquals(byte[] b, int from, byte[] part) {
        for (int i = 0; i < part.length; i++) {
            if (b[from + i] != part[i]) {
                return false;
            }
        }
        return true;
    }

    private static boolean isDigit(byte c) {
        return c >= '0' && c <= '9';
    }

    /** The decimal number in {@code b[from, to)}, or -1 if it is not one (empty, signed, a list, too long). */
    private static long digits(byte[] b, int from, int to) {
        if (to <= from || to - from > 18) {
            return -1;
        }
        long n = 0;
        for (int i = from; i < to; i++) {
            if (!isDigit(b[i])) {
                return -1;
            }
            n = n * 10 + (b[i] - '0');
        }
        return n;
    }

    /** Whether {@code b[from, from + length)} is {@code lowerCase}, ignoring ASCII case. */
    static boolean is(byte[] b, int from, int length, String lowerCase) {
        if (length != lowerCase.length()) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            if ((b[from + i] | 0x20) != lowerCase.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** The field name {@code b[from, from + length)} as an {@link HttpString}, shared with earlier responses. */
    static HttpString name(byte[] b, int from, int length) {
        int slot = slot(b, from, length);
        Name cached = NAMES[slot];
        if (cached != null && cached.matches(b, from, length)) {
            return cached.name;
        }
        byte[] bytes = java.util.Arrays.copyOfRange(b, from, from + length);
        Name fresh = new Name(bytes, new HttpString(bytes));
        NAMES[slot] = fresh; // a racing write only costs a miss: Name is immutable
        return fresh.name;
    }

    private static int slot(byte[] b, int from, int length) {
        int h = 0;
        for (int i = from; i < from + length; i++) {
            h = 31 * h + b[i];
        }
        return (h ^ (h >>> 16)) & (NAMES.length - 1);
    }

    /** A cached field name: its exact bytes and its {@link HttpString}. */
    private static final class Name {
        private final byte[] bytes;
        private final HttpString name;

        Name(byte[] bytes, HttpString name) {
            this.bytes = bytes;
            this.name = name;
        }

        boolean matches(byte[] b, int from, int length) {
            if (bytes.length != length) {
                return false;
            }
            for (int i = 0; i < length; i++) {
                if (bytes[i] != b[from + i]) {
                    return false;
                }
            }
            return true;
        }
    }
}
