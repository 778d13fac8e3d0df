package dev.lattice.dataplane.filter.ratelimit;

import dev.lattice.dataplane.filter.HttpFilter;
import dev.lattice.dataplane.filter.HttpFilterConfig;
import java.time.Clock;
import java.util.List;

/** One listener's compiled limits (in config order), the status to answer, and the clock buckets refill by. Immutable. */
final class LocalRateLimitFilterConfig implements HttpFilterConfig {
  final List<CompiledLimit> limits;
  final int responseStatus;
  final Clock clock;
  private final LocalRateLimitFilter filter;

  LocalRateLimitFilterConfig(List<CompiledLimit> limits, int responseStatus, Clock clock) {
    this.limits = List.copyOf(limits);
    this.responseStatus = responseStatus;
    this.clock = clock;
    this.filter = new LocalRateLimitFilter(this);
  }

  @Override
  public HttpFilter newFilter() {
    return filter; // per-request state lives in the exchange, so one instance serves every request
  }
}
