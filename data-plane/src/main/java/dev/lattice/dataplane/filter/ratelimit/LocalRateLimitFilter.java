package dev.lattice.dataplane.filter.ratelimit;

import dev.lattice.dataplane.filter.FilterAction;
import dev.lattice.dataplane.filter.HttpExchange;
import dev.lattice.dataplane.filter.HttpFilter;
import dev.lattice.dataplane.filter.LocalResponse;
import dev.lattice.dataplane.filter.StateKey;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * Envoy's local rate limit: every limit that counts the request must have a token, then each gives one;
 * otherwise the request is answered locally (status from the config, 429 by default, body
 * {@code local_rate_limited}, flag {@code RL}) with {@code retry-after}. Every response of a counted
 * request carries {@code x-ratelimit-limit/remaining/reset} (IETF draft 03, as Envoy's
 * {@code DRAFT_VERSION_03}) of the tightest limit. Stateless itself; the buckets are thread-safe.
 */
final class LocalRateLimitFilter implements HttpFilter {
  /** Name of the limit that rejected the request, for flow records and access logs. */
  public static final StateKey<String> LIMITED_BY = StateKey.of("ratelimit.limitedBy", String.class);
  static final String BODY = "local_rate_limited";
  // cached names: hashed and validated once, not on every counted request
  private static final AsciiString LIMIT = AsciiString.cached("x-ratelimit-limit");
  private static final AsciiString REMAINING = AsciiString.cached("x-ratelimit-remaining");
  private static final AsciiString RESET = AsciiString.cached("x-ratelimit-reset");

  private final LocalRateLimitFilterConfig config;

  LocalRateLimitFilter(LocalRateLimitFilterConfig config) {
    this.config = config;
  }

  @Override
  public CompletionStage<FilterAction> onRequest(HttpExchange ex) {
    long now = config.clock.millis();
    int n = config.limits.size();
    TokenBucket[] buckets = new TokenBucket[n];
    int counted = 0;
    for (int i = 0; i < n; i++) {
      buckets[i] = config.limits.get(i).bucketFor(ex);
      if (buckets[i] != null) {
        counted++;
      }
    }
    if (counted == 0) {
      return FilterAction.proceedNow();
    }
    if (counted > 1) {
      // all or nothing: no bucket gives a token while another one has none (one bucket: the take decides)
      for (int i = 0; i < n; i++) {
        if (buckets[i] != null && buckets[i].available(now) < 1) {
          return FilterAction.respondNow(limited(ex, config.limits.get(i), buckets[i], now));
        }
      }
    }
    int tightest = -1;
    double least = Double.MAX_VALUE;
    for (int i = 0; i < n; i++) {
      if (buckets[i] == null) {
        continue;
      }
      double left = buckets[i].take(now);
      if (left < 0) {
        // none left (or another loop took the last token between the check and here)
        return FilterAction.respondNow(limited(ex, config.limits.get(i), buckets[i], now));
      }
      if (left < least) {
        least = left;
        tightest = i;
      }
    }
    CompiledLimit l = config.limits.get(tightest);
    HttpHeaders h = ex.responseHeaders();
    h.set(LIMIT, limitHeader(l));
    h.set(REMAINING, Long.toString((long) Math.floor(least)));
    h.set(RESET, Long.toString(seconds(buckets[tightest].millisUntilFull(now))));
    return FilterAction.proceedNow();
  }

  private LocalResponse limited(HttpExchange ex, CompiledLimit l, TokenBucket b, long now) {
    ex.put(LIMITED_BY, l.name());
    long retry = Math.max(1, seconds(b.millisUntilToken(now)));
    return new LocalResponse(config.responseStatus, BODY, Map.of(
        "retry-after", Long.toString(retry),
        "x-ratelimit-limit", limitHeader(l),
        "x-ratelimit-remaining", "0",
        "x-ratelimit-reset", Long.toString(retry)), "RL", false);
  }

  private static String limitHeader(CompiledLimit l) {
    return l.limitHeader;
  }

  private static long seconds(long millis) {
    return (millis + 999) / 1000;
  }
}
