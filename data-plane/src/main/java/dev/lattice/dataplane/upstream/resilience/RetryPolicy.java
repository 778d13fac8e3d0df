package dev.lattice.dataplane.upstream.resilience;

import dev.lattice.events.policy.HttpRetry;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * A route's compiled retry policy (Istio {@code HTTPRetry} → Envoy's router retry policy): how many
 * retries, the per-try timeout, the conditions that allow one ({@code retryOn}) and the backoff between
 * tries. Immutable; built once per config snapshot. Conditions follow Envoy's {@code x-envoy-retry-on}
 * and {@code x-envoy-retry-grpc-on}:
 *
 * <ul>
 *   <li>{@code 5xx}: any 5xx response, a connect failure, a reset before the response, a per-try timeout;
 *   <li>{@code gateway-error}: 502, 503, 504, a connect failure, a reset, a per-try timeout;
 *   <li>{@code reset}: a reset (connection closed before the response head) or a per-try timeout;
 *   <li>{@code connect-failure}: the connection to the endpoint could not be made;
 *   <li>{@code retriable-status-codes} and numeric codes such as {@code 503}: those statuses;
 *   <li>{@code retriable-4xx}: 409;
 *   <li>{@code cancelled}, {@code deadline-exceeded}, {@code internal}, {@code resource-exhausted},
 *       {@code unavailable}: the response head's {@code grpc-status} (trailers-only gRPC answers);
 *   <li>{@code refused-stream}: HTTP/2 REFUSED_STREAM — the proxy talks HTTP/1.1 upstream, so it never occurs.
 * </ul>
 */
public final class RetryPolicy {
  /** Istio's default {@code retryOn} when a route sets retries without it (with 503 as retriable status). */
  public static final String ISTIO_DEFAULT_RETRY_ON = "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes,503";

  /** Why a try failed. */
  public enum Failure { CONNECT_FAILURE, RESET, PER_TRY_TIMEOUT, STATUS }

  private final int numRetries;
  private final long perTryTimeoutMillis;
  private final RetryBackoff backoff;
  private final boolean on5xx;
  private final boolean onGatewayError;
  private final boolean onReset;
  private final boolean onConnectFailure;
  private final boolean onRetriable4xx;
  private final Set<Integer> statuses;
  private final Set<Integer> grpcStatuses;
  private final String retryOn;

  private RetryPolicy(int numRetries, long perTryTimeoutMillis, RetryBackoff backoff, String retryOn) {
    this.numRetries = numRetries;
    this.perTryTimeoutMillis = perTryTimeoutMillis;
    this.backoff = backoff;
    this.retryOn = retryOn;
    boolean x5 = false, gw = false, reset = false, cf = false, r4 = false, codes = false;
    Set<Integer> st = new TreeSet<>();
    Set<Integer> grpc = new TreeSet<>();
    for (String token : retryOn.split(",")) {
      String t = token.trim().toLowerCase(Locale.ROOT);
      switch (t) {
        case "" -> { }
        case "5xx" -> x5 = true;
        case "gateway-error" -> gw = true;
        case "reset", "reset-before-request" -> reset = true;
        case "connect-failure" -> cf = true;
        case "retriable-4xx" -> r4 = true;
        case "retriable-status-codes" -> codes = true;
        case "refused-stream", "retriable-headers", "envoy-ratelimited", "http3-post-connect-failure" -> { } // never seen on HTTP/1.1
        case "cancelled" -> grpc.add(1);
        case "deadline-exceeded" -> grpc.add(4);
        case "resource-exhausted" -> grpc.add(8);
        case "internal" -> grpc.add(13);
        case "unavailable" -> grpc.add(14);
        default -> {
          if (t.length() == 3 && t.chars().allMatch(Character::isDigit) && Integer.parseInt(t) >= 100 && Integer.parseInt(t) <= 599) {
            st.add(Integer.parseInt(t)); // Istio: a numeric code in retryOn is a retriable status code
            codes = true;
          } else {
            throw new IllegalArgumentException("retryOn: \"" + token.trim() + "\" (expected: comma-separated conditions among "
                + "5xx, gateway-error, reset, connect-failure, retriable-status-codes, retriable-4xx, refused-stream, cancelled, "
                + "deadline-exceeded, internal, resource-exhausted, unavailable, or status codes 100-599)");
          }
        }
      }
    }
    this.on5xx = x5;
    this.onGatewayError = gw;
    this.onReset = reset;
    this.onConnectFailure = cf;
    this.onRetriable4xx = r4;
    this.statuses = codes ? Set.copyOf(st) : Set.of();
    this.grpcStatuses = Set.copyOf(grpc);
  }

  /** The policy of {@code r}, or null when it allows no retry and sets no per-try timeout. Throws on bad values. */
  public static RetryPolicy of(HttpRetry r) {
    if (r == null) {
      return null;
    }
    if (r.getAttempts() < 0) {
      throw new IllegalArgumentException("attempts: " + r.getAttempts() + " (expected: >= 0)");
    }
    long perTry = r.getPerTryTimeout() == null ? 0 : r.getPerTryTimeout();
    if (perTry < 0) {
      throw new IllegalArgumentException("perTryTimeout: " + perTry + " (expected: >= 0 ms)");
    }
    if (r.getAttempts() == 0 && perTry == 0) {
      return null;
    }
    Duration base = r.getBackoffBaseInterval() == null ? null : Duration.ofMillis(r.getBackoffBaseInterval());
    Duration max = r.getBackoffMaxInterval() == null ? null : Duration.ofMillis(r.getBackoffMaxInterval());
    String on = r.getRetryOn() == null || r.getRetryOn().isBlank() ? ISTIO_DEFAULT_RETRY_ON : r.getRetryOn();
    return new RetryPolicy(r.getAttempts(), perTry, RetryBackoff.of(base, max), on);
  }

  public int numRetries() {
    return numRetries;
  }

  /** 0 = none. */
  public long perTryTimeoutMillis() {
    return perTryTimeoutMillis;
  }

  public RetryBackoff backoff() {
    return backoff;
  }

  public String retryOn() {
    return retryOn;
  }

  /** Whether a try that failed this way may be retried (attempts and budget aside). */
  public boolean retriable(Failure f) {
    return switch (f) {
      case CONNECT_FAILURE -> onConnectFailure || on5xx || onGatewayError || onReset;
      case RESET, PER_TRY_TIMEOUT -> on5xx || onGatewayError || onReset;
      case STATUS -> false;
    };
  }

  /** Whether a response head with {@code status} (and {@code grpcStatus}, or null) may be retried. */
  public boolean retriableResponse(int status, String grpcStatus) {
    if (on5xx && status >= 500 && status <= 599) {
      return true;
    }
    if (onGatewayError && (status == 502 || status == 503 || status == 504)) {
      return true;
    }
    if (onRetriable4xx && status == 409) {
      return true;
    }
    if (statuses.contains(status)) {
      return true;
    }
    if (!grpcStatuses.isEmpty() && grpcStatus != null) {
      try {
        return grpcStatuses.contains(Integer.parseInt(grpcStatus.trim()));
      } catch (NumberFormatException e) {
        return false;
      }
    }
    return false;
  }
}
