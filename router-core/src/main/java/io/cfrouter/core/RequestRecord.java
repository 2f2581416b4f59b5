package io.cfrouter.core;

/**
 * What happened to one proxied request: the facts for the access log and the statistics. Strings are
 * never {@code null}; a missing value is empty.
 *
 * @param host the request's {@code Host} header
 * @param startEpochMillis when the request arrived, epoch milliseconds
 * @param method request method
 * @param uri request URI as sent
 * @param protocol e.g. {@code HTTP/1.1}
 * @param status the status returned to the client; 499 when the client went away first
 * @param requestBytes request body bytes received
 * @param responseBytes response body bytes sent
 * @param referer {@code Referer} header
 * @param userAgent {@code User-Agent} header
 * @param clientAddress client {@code ip:port}
 * @param backendAddress chosen endpoint {@code host:port}
 * @param xForwardedFor {@code X-Forwarded-For} as sent to the backend
 * @param xForwardedProto {@code X-Forwarded-Proto} as sent to the backend
 * @param requestId the {@code X-Vcap-Request-Id} given to the request
 * @param durationNanos time from arrival to the end of the response
 * @param appId the endpoint's application id
 * @param appIndex the endpoint's instance index
 * @param instanceId the endpoint's instance id
 * @param component the endpoint's {@code component} tag
 * @param routerError the {@code X-Cf-RouterError} value when the router answered itself
 */
public record RequestRecord(String host, long startEpochMillis, String method, String uri, String protocol,
                            int status, long requestBytes, long responseBytes, String referer, String userAgent,
                            String clientAddress, String backendAddress, String xForwardedFor,
                            String xForwardedProto, String requestId, long durationNanos, String appId,
                            String appIndex, String instanceId, String component, String routerError) {
}
