package dev.lattice.dataplane.filter.ratelimit;

import dev.lattice.dataplane.config.ProxyConfig;
import dev.lattice.dataplane.filter.HttpFilterConfig;
import dev.lattice.dataplane.filter.HttpFilterFactory;
import dev.lattice.events.config.ListenerConfig;
import dev.lattice.events.config.RateLimitConfig;
import dev.lattice.events.policy.RateLimit;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Puts the local rate limit filter on every listener naming a {@code rateLimit} config. Order 300:
 * after authorization (a denied request spends no token), before CORS, faults and routing. One factory
 * per proxy: it keeps each limit's buckets across config snapshots while the listener, the config name,
 * the limit's position and its settings are unchanged, so a config push does not refill every bucket.
 */
public final class LocalRateLimitFilterFactory implements HttpFilterFactory {
  private final Clock clock;
  /** (listener, config, index) → the limit's settings and its buckets; a changed limit replaces its entry. */
  private final Map<List<Object>, Kept> kept = new ConcurrentHashMap<>();

  private record Kept(RateLimit spec, CompiledLimit limit) {}

  /** Buckets refill by the system clock. */
  public LocalRateLimitFilterFactory() {
    this(Clock.systemUTC());
  }

  /** Buckets refill by {@code clock} (tests drive it by hand). */
  public LocalRateLimitFilterFactory(Clock clock) {
    this.clock = clock;
  }

  @Override
  public String name() {
    return "local_ratelimit";
  }

  @Override
  public int order() {
    return 300;
  }

  @Override
  public Optional<HttpFilterConfig> configure(ProxyConfig snapshot, ListenerConfig listener) {
    if (listener.getRateLimit() == null) {
      return Optional.empty();
    }
    RateLimitConfig rc = snapshot.rateLimits().get(listener.getRateLimit());
    if (rc.getResponseStatus() < 400 || rc.getResponseStatus() > 599) {
      throw new IllegalArgumentException("rateLimit " + rc.getName() + ": responseStatus " + rc.getResponseStatus() + " (expected: 400..599)");
    }
    List<CompiledLimit> limits = new ArrayList<>();
    for (int i = 0; i < rc.getLimits().size(); i++) {
      RateLimit l = rc.getLimits().get(i);
      String where = "rateLimit " + rc.getName() + " limits[" + i + "]";
      CompiledLimit fresh = new CompiledLimit(where, l, clock); // validates even when an old one is kept
      Kept k = kept.compute(List.of(listener.getName(), rc.getName(), i),
          (key, old) -> old != null && old.spec().equals(l) ? old : new Kept(l, fresh));
      limits.add(k.limit());
    }
    if (limits.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new LocalRateLimitFilterConfig(limits, rc.getResponseStatus(), clock));
  }
}
