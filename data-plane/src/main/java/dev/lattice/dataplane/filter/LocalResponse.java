package dev.lattice.dataplane.filter;

import java.util.Map;

/**
 * A response a filter answers with instead of forwarding the request (403 from authorization, 429 from
 * a rate limit). Immutable.
 *
 * @param status       HTTP status
 * @param body         fixed body text (UTF-8, sent as text/plain)
 * @param headers      extra response headers
 * @param responseFlag Envoy-style response flag for telemetry ({@code RBAC}, {@code RL}, …), or null
 * @param close        close the connection after the response
 */
public record LocalResponse(int status, String body, Map<String, String> headers, String responseFlag, boolean close) {
  public LocalResponse {
    headers = Map.copyOf(headers);
  }

  public static LocalResponse of(int status, String body, String responseFlag) {
    return new LocalResponse(status, body, Map.of(), responseFlag, false);
  }
}
