package dev.lattice.dataplane.filter.ratelimit;

import dev.lattice.dataplane.filter.HttpExchange;
import dev.lattice.events.policy.RateLimit;
import dev.lattice.events.policy.RateLimitMatch;
import dev.lattice.events.policy.RateLimitScope;
import dev.lattice.events.policy.StringMatch;
import java.time.Clock;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * One limit of a RateLimitConfig, compiled: which requests it counts (routes, uri, methods, caller
 * principals, the descriptor header) and its buckets, one per key (shared, per caller principal, per
 * header value, per connection). Buckets outlive config snapshots: the factory hands the same instance
 * to every snapshot whose limit is unchanged. Thread-safe.
 */
final class CompiledLimit {
  /** Buckets kept at most; past it full buckets are dropped, then new keys share one overflow bucket. */
  static final int MAX_BUCKETS = 10_000;
  private static final Object OVERFLOW = new Object();

  private final String name;
  private final Set<String> routes;
  private final Predicate<String> uri;
  private final Set<String> methods;
  private final List<Predicate<String>> principals;
  private final boolean perPrincipal;
  private final boolean perConnection;
  private final String perHeader;
  final long requestsPerUnit;
  final long unitSeconds;
  /** {@code x-ratelimit-limit} of this limit, built once (it is on every counted response). */
  final String limitHeader;
  private final double capacity;
  private final double perMilli;
  private final Clock clock;
  private final Map<Object, TokenBucket> buckets = new ConcurrentHashMap<>();

  private record Key(Object connection, String principal, String header) {}

  /** The key of a limit whose requests all share one bucket (no per-connection, principal or header scope). */
  private static final Key SHARED = new Key(null, null, null);

  CompiledLimit(String where, RateLimit l, Clock clock) {
    this.name = l.getName() == null ? where : l.getName();
    if (l.getRequestsPerUnit() <= 0) {
      throw new IllegalArgumentException(where + ": requestsPerUnit " + l.getRequestsPerUnit() + " (expected: > 0)");
    }
    if (l.getBurst() != null && l.getBurst() <= 0) {
      throw new IllegalArgumentException(where + ": burst " + l.getBurst() + " (expected: > 0, or unset for requestsPerUnit)");
    }
    this.requestsPerUnit = l.getRequestsPerUnit();
    this.unitSeconds = switch (l.getUnit()) {
      case SECOND -> 1;
      case MINUTE -> 60;
      case HOUR -> 3600;
    };
    this.limitHeader = requestsPerUnit + ", " + requestsPerUnit + ";w=" + unitSeconds;
    this.capacity = l.getBurst() == null ? requestsPerUnit : l.getBurst();
    this.perMilli = requestsPerUnit / (unitSeconds * 1000.0);
    RateLimitMatch m = l.getMatch();
    this.routes = m == null ? Set.of() : Set.copyOf(m.getRoutes());
    this.uri = m == null || m.getUri() == null ? null : stringTest(where + ": match.uri", m.getUri());
    this.methods = m == null ? Set.of() : Set.copyOf(m.getMethods().stream().map(s -> s.toUpperCase(Locale.ROOT)).toList());
    this.principals = m == null ? List.of() : m.getSourcePrincipals().stream().map(CompiledLimit::principal).toList();
    this.perPrincipal = l.getPerSourcePrincipal();
    this.perConnection = l.getScope() == RateLimitScope.CONNECTION;
    this.perHeader = l.getPerHeader() == null ? null : l.getPerHeader().toLowerCase(Locale.ROOT);
    if (perHeader != null && perHeader.isBlank()) {
      throw new IllegalArgumentException(where + ": perHeader is blank (expected: a header name)");
    }
    this.clock = clock;
  }

  String name() {
    return name;
  }

  /** The bucket this request counts against, or null when the limit does not count it. */
  TokenBucket bucketFor(HttpExchange ex) {
    if (!routes.isEmpty() && !routes.contains(ex.routeName())) {
      return null;
    }
    if (uri != null && !uri.test(ex.path())) {
      return null;
    }
    if (!methods.isEmpty() && !methods.contains(ex.request().method().name())) {
      return null;
    }
    String principal = ex.peer() == null ? null : stripScheme(ex.peer().spiffeId());
    if (!principals.isEmpty() && (principal == null || principals.stream().noneMatch(p -> p.test(principal)))) {
      return null;
    }
    String header = null;
    if (perHeader != null) {
      header = ex.request().headers().get(perHeader);
      if (header == null) {
        return null;
      }
    }
    Object key = !perConnection && !perPrincipal && header == null ? SHARED
        : new Key(perConnection ? ex.sourceAddress() : null, perPrincipal ? (principal == null ? "" : principal) : null, header);
    TokenBucket b = buckets.get(key);
    if (b != null) {
      return b;
    }
    long now = clock.millis();
    if (buckets.size() >= MAX_BUCKETS) {
      buckets.values().removeIf(x -> x.full(now)); // a full bucket is the same as a new one: nothing is lost
      if (buckets.size() >= MAX_BUCKETS) {
        key = OVERFLOW;
      }
    }
    return buckets.computeIfAbsent(key, k -> new TokenBucket(capacity, perMilli, now));
  }

  int bucketCount() {
    return buckets.size();
  }

  private static String stripScheme(String spiffeId) {
    return spiffeId.startsWith("spiffe://") ? spiffeId.substring(9) : spiffeId;
  }

  /** AuthorizationPolicy principal syntax: exact, {@code prefix*}, {@code *suffix} or {@code *}. */
  private static Predicate<String> principal(String p) {
    String v = stripScheme(p);
    if (v.equals("*")) {
      return s -> true;
    }
    if (v.endsWith("*")) {
      String prefix = v.substring(0, v.length() - 1);
      return s -> s.startsWith(prefix);
    }
    if (v.startsWith("*")) {
      String suffix = v.substring(1);
      return s -> s.endsWith(suffix);
    }
    return v::equals;
  }

  private static Predicate<String> stringTest(String where, StringMatch m) {
    if (m.getExact() != null) {
      String e = m.getExact();
      return e::equals;
    }
    if (m.getPrefix() != null) {
      String p = m.getPrefix();
      return s -> s.startsWith(p);
    }
    if (m.getRegex() != null) {
      Pattern re;
      try {
        re = Pattern.compile(m.getRegex());
      } catch (java.util.regex.PatternSyntaxException e) {
        throw new IllegalArgumentException(where + ": regex " + m.getRegex() + " does not compile (" + e.getDescription() + ")");
      }
      return s -> re.matcher(s).matches();
    }
    return s -> true;
  }
}
