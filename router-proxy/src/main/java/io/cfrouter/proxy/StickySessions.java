package io.cfrouter.proxy;

import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;

import java.util.List;
import java.util.Locale;

/**
 * Sticky sessions (behaviour reference §3.4): the {@code __VCAP_ID__} cookie that pins a client holding a
 * session cookie to one instance. Immutable and thread-safe.
 */
final class StickySessions {

    static final String VCAP_ID = "__VCAP_ID__";

    private final List<String> cookieNames;
    private final boolean secureCookies;

    StickySessions(List<String> cookieNames, boolean secureCookies) {
        this.cookieNames = List.copyOf(cookieNames);
        this.secureCookies = secureCookies;
    }

    /** The instance a request asks for: its {@code __VCAP_ID__}, if it also carries a session cookie; else null. */
    String requestedInstance(HeaderMap requestHeaders) {
        HeaderValues cookies = requestHeaders.get(Headers.COOKIE);
        if (cookies == null) {
            return null;
        }
        String vcapId = null;
        boolean session = false;
        for (int i = 0; i < cookies.size(); i++) {
            for (String pair : cookies.get(i).split(";")) {
                int eq = pair.indexOf('=');
                String name = (eq < 0 ? pair : pair.substring(0, eq)).trim();
                if (name.equals(VCAP_ID) && eq >= 0) {
                    vcapId = pair.substring(eq + 1).trim();
                } else if (cookieNames.contains(name)) {
                    session = true;
                }
            }
        }
        return session && vcapId != null && !vcapId.isEmpty() ? vcapId : null;
    }

    /**
     * Adds {@code __VCAP_ID__} to a backend response when it starts a session, or when the request asked for
     * an instance that did not serve it.
     *
     * @param responseHeaders the backend's response headers, changed in place
     * @param setCookies their {@code Set-Cookie} values, or null when there are none
     * @param instanceId the instance that served the request; nothing is added when empty
     * @param contextPath the route's context path, the cookie's {@code Path}
     * @param requested the instance the request asked for, or null
     */
    void onResponse(HeaderMap responseHeaders, HeaderValues setCookies, String instanceId, String contextPath,
                    String requested) {
        if (instanceId.isEmpty()) {
            return;
        }
        String session = null;
        if (setCookies != null) {
            for (int i = 0; i < setCookies.size(); i++) {
                String cookie = setCookies.get(i);
                int eq = cookie.indexOf('=');
                String name = eq < 0 ? cookie.trim() : cookie.substring(0, eq).trim();
                if (name.equals(VCAP_ID)) {
                    return;
                }
                if (session == null && cookieNames.contains(name)) {
                    session = cookie;
                }
            }
        }
        if (session != null) {
            responseHeaders.add(Headers.SET_COOKIE, vcapCookie(instanceId, contextPath, session));
        } else if (requested != null && !requested.equals(instanceId)) {
            responseHeaders.add(Headers.SET_COOKIE, vcapCookie(instanceId, contextPath, null));
        }
    }

    private String vcapCookie(String instanceId, String contextPath, String session) {
        StringBuilder sb = new StringBuilder(96).append(VCAP_ID).append('=').append(instanceId)
                .append("; Path=").append(contextPath).append("; HttpOnly");
        boolean secure = secureCookies;
        if (session != null) {
            String[] attributes = session.split(";");
            for (int i = 1; i < attributes.length; i++) {
                String attribute = attributes[i].trim();
                int eq = attribute.indexOf('=');
                String name = (eq < 0 ? attribute : attribute.substring(0, eq)).trim().toLowerCase(Locale.ROOT);
                String value = eq < 0 ? "" : attribute.substring(eq + 1).trim();
                switch (name) {
                    case "secure" -> secure = true;
                    case "samesite", "expires" -> sb.append("; ").append(attribute);
                    case "max-age" -> {
                        if (isNonPositive(value)) {
                            sb.append("; ").append(attribute);
                        }
                    }
                    default -> { }
                }
            }
        }
        if (secure) {
            sb.append("; Secure");
        }
        return sb.toString();
    }

    private static boolean isNonPositive(String value) {
        try {
            return Long.parseLong(value) <= 0;
        } catch (NumberFormatException e) {
            return false;
        }
    }
}
