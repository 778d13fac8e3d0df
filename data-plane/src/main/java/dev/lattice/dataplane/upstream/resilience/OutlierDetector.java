package dev.lattice.dataplane.upstream.resilience;

import dev.lattice.events.policy.OutlierDetection;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Envoy's outlier detection for one cluster from Istio's {@code outlierDetection}: passive health
 * checking by consecutive errors. Every response of an endpoint is reported ({@link #report}); a 5xx
 * counts towards {@code consecutive5xxErrors}, a 502/503/504 also towards {@code consecutiveGatewayErrors},
 * anything else resets both. Locally originated failures count as Envoy counts them when it does not
 * split local from external errors (Istio's default): a connect failure or a reset before the response
 * is a 503, a timeout a 504. Reaching a threshold ejects the endpoint at once — unless that would take
 * the ejected share past {@code maxEjectionPercent} (checked as Envoy does: {@code 100 × (ejected + 1) /
 * endpoints ≤ max}, so a 10 % limit ejects nothing from fewer than ten endpoints). Every
 * {@code interval} a sweep ({@link #maybeSweep}) returns the endpoints whose ejection time is over:
 * {@code baseEjectionTime × k}, where {@code k} grows by one per ejection (up to Envoy's 300 s
 * {@code max_ejection_time}, or the base time when larger, as Istio sets it) and shrinks by one per
 * sweep the endpoint spends in service. While fewer than {@code minHealthPercent} of the endpoints
 * are healthy (in the registry and not ejected) the balancer ignores ejections (Envoy's panic mode,
 * which Istio sets from {@code minHealthPercent}; 0, the default, never panics).
 *
 * <p>One detector per cluster name, carried over config pushes while the cluster keeps outlier
 * detection, so an endpoint that stays keeps its state. The hot path — a balancer's pick — reads one
 * volatile flag ({@link #ejecting}) and, only while some endpoint is ejected, one flag per candidate.
 * Results come from every event loop: counters are atomics; ejection, return and reconfiguration take
 * the detector's lock (rare). Time is the {@link Clock} given (tests move it by hand).
 */
public final class OutlierDetector {
  /** Envoy's defaults. */
  public static final int DEFAULT_CONSECUTIVE_5XX = 5;
  public static final long DEFAULT_INTERVAL_MS = 10_000;
  public static final long DEFAULT_BASE_EJECTION_MS = 30_000;
  public static final int DEFAULT_MAX_EJECTION_PERCENT = 10;
  public static final long DEFAULT_MAX_EJECTION_MS = 300_000;
  public static final int DEFAULT_CONSECUTIVE_LOCAL_ORIGIN = 5;

  /** The settings of one snapshot, defaults applied. {@code 0} thresholds are off. */
  public record Settings(int consecutive5xx, int consecutiveGateway, long intervalMillis, long baseEjectionMillis,
      long maxEjectionMillis, int maxEjectionPercent, int minHealthPercent, boolean splitLocalOrigin, int consecutiveLocalOrigin) {

    /** Without the local-origin split (Istio's default). */
    public Settings(int consecutive5xx, int consecutiveGateway, long intervalMillis, long baseEjectionMillis,
        long maxEjectionMillis, int maxEjectionPercent, int minHealthPercent) {
      this(consecutive5xx, consecutiveGateway, intervalMillis, baseEjectionMillis, maxEjectionMillis, maxEjectionPercent,
          minHealthPercent, false, DEFAULT_CONSECUTIVE_LOCAL_ORIGIN);
    }

    /** {@code od} checked and defaulted as Istio and Envoy do; a bad value fails naming the field. */
    public static Settings of(OutlierDetection od) {
      int c5 = od.getConsecutive5xxErrors() == null ? DEFAULT_CONSECUTIVE_5XX : atLeast("consecutive5xxErrors", od.getConsecutive5xxErrors(), 0);
      // Istio leaves Envoy's gateway-failure detector unenforced unless consecutiveGatewayErrors is set
      int gw = od.getConsecutiveGatewayErrors() == null ? 0 : atLeast("consecutiveGatewayErrors", od.getConsecutiveGatewayErrors(), 0);
      long interval = od.getInterval() == null ? DEFAULT_INTERVAL_MS : positive("interval", od.getInterval());
      long base = od.getBaseEjectionTime() == null ? DEFAULT_BASE_EJECTION_MS : positive("baseEjectionTime", od.getBaseEjectionTime());
      Integer mep = od.getMaxEjectionPercent();
      if (mep != null && (mep < 0 || mep > 100)) {
        throw new IllegalArgumentException("outlierDetection.maxEjectionPercent: " + mep + " (expected: 0..100)");
      }
      Integer mhp = od.getMinHealthPercent();
      if (mhp != null && (mhp < 0 || mhp > 100)) {
        throw new IllegalArgumentException("outlierDetection.minHealthPercent: " + mhp + " (expected: 0..100)");
      }
      boolean split = Boolean.TRUE.equals(od.getSplitExternalLocalOriginErrors());
      int local = od.getConsecutiveLocalOriginFailures() == null ? DEFAULT_CONSECUTIVE_LOCAL_ORIGIN
          : atLeast("consecutiveLocalOriginFailures", od.getConsecutiveLocalOriginFailures(), 0);
      // Istio only passes maxEjectionPercent > 0 on, so 0 means Envoy's default
      return new Settings(c5, gw, interval, base, Math.max(DEFAULT_MAX_EJECTION_MS, base),
          mep == null || mep == 0 ? DEFAULT_MAX_EJECTION_PERCENT : mep, mhp == null ? 0 : mhp, split, local);
    }

    private static int atLeast(String field, int v, int min) {
      if (v < min) {
        throw new IllegalArgumentException("outlierDetection." + field + ": " + v + " (expected: >= " + min + ", 0 = off)");
      }
      return v;
    }

    private static long positive(String field, long ms) {
      if (ms <= 0) {
        throw new IllegalArgumentException("outlierDetection." + field + ": " + ms + " ms (expected: > 0)");
      }
      return ms;
    }
  }

  /** One endpoint's state. The balancer reads {@link #ejected()}; the rest is the detector's. */
  public static final class Host {
    final InetSocketAddress address;
    private final AtomicInteger consecutive5xx = new AtomicInteger();
    private final AtomicInteger consecutiveGateway = new AtomicInteger();
    private final AtomicInteger consecutiveLocal = new AtomicInteger();
    private volatile boolean ejected;
    // guarded by the detector's lock
    private long ejectedAtMillis;
    private long unejectedAtMillis = -1;
    private volatile int backoff;
    private volatile int ejections;

    Host(InetSocketAddress address) {
      this.address = address;
    }

    public InetSocketAddress address() {
      return address;
    }

    /** Whether the endpoint is out of the balancer's rotation now. */
    public boolean ejected() {
      return ejected;
    }

    /** Times the endpoint was ejected since the detector first saw it. */
    public int ejections() {
      return ejections;
    }

    /** The current multiplier of the base ejection time (the next ejection lasts one more). */
    public int backoff() {
      return backoff;
    }

    int consecutive5xx() {
      return consecutive5xx.get();
    }
  }

  /** Why an endpoint was ejected (Envoy's {@code OutlierEjectionType}). */
  enum Cause { CONSECUTIVE_5XX, CONSECUTIVE_GATEWAY_FAILURE, CONSECUTIVE_LOCAL_ORIGIN_FAILURE }

  private final Clock clock;
  private volatile Settings settings;
  /** The cluster's endpoints → state; replaced (hosts that stay carried) by {@link #configure}. */
  private volatile Map<InetSocketAddress, Host> hosts = Map.of();
  /** Endpoints the registry calls healthy (the balancer's set), for the panic check. */
  private Set<InetSocketAddress> balanced = Set.of();
  private int active;
  private volatile boolean ejecting;
  /** Bumped on every ejection, return or reconfiguration: balancers rebuild their in-service view on a change. */
  private volatile int version;
  private long lastSweepMillis;
  private final AtomicLong enforcedTotal = new AtomicLong();
  private final AtomicLong enforced5xx = new AtomicLong();
  private final AtomicLong enforcedGateway = new AtomicLong();
  private final AtomicLong enforcedLocal = new AtomicLong();
  private final AtomicLong detected5xx = new AtomicLong();
  private final AtomicLong detectedGateway = new AtomicLong();
  private final AtomicLong overflow = new AtomicLong();

  public OutlierDetector(Settings settings, Clock clock) {
    this.settings = settings;
    this.clock = clock;
    this.lastSweepMillis = clock.millis();
  }

  /**
   * The endpoints of a new snapshot: state is kept for those that stay, new ones start healthy, the
   * state of those gone is dropped (an ejected one is returned first, in case an older snapshot still
   * balances over it). {@code balanced}: those the registry calls healthy.
   */
  public synchronized void configure(Settings s, Collection<InetSocketAddress> endpoints, Collection<InetSocketAddress> balanced) {
    this.settings = s;
    Map<InetSocketAddress, Host> old = hosts;
    Map<InetSocketAddress, Host> next = new HashMap<>();
    for (InetSocketAddress a : endpoints) {
      Host h = old.get(a);
      next.put(a, h != null ? h : new Host(a));
    }
    old.forEach((a, h) -> {
      if (!next.containsKey(a) && h.ejected) {
        h.ejected = false;
      }
    });
    int n = 0;
    for (Host h : next.values()) {
      if (h.ejected) {
        n++;
      }
    }
    this.hosts = Map.copyOf(next);
    this.balanced = Set.copyOf(balanced);
    this.active = n;
    updateEjecting();
  }

  /** Stops detecting (the cluster lost its outlierDetection): every endpoint returns. */
  public synchronized void disable() {
    hosts.values().forEach(h -> h.ejected = false);
    active = 0;
    updateEjecting();
  }

  public Settings settings() {
    return settings;
  }

  /** The state of {@code endpoint}, or null when the cluster does not have it. */
  public Host host(InetSocketAddress endpoint) {
    return hosts.get(endpoint);
  }

  /** Every endpoint's state. */
  public Collection<Host> hosts() {
    return hosts.values();
  }

  /** Whether the balancer must skip ejected endpoints now: some are ejected and the cluster is not in panic. */
  public boolean ejecting() {
    return ejecting;
  }

  /** Changes with every ejection or return. */
  public int version() {
    return version;
  }

  /** Whether {@code endpoint} is ejected (a map lookup: for the hash ring's walk, not the common path). */
  public boolean isEjected(InetSocketAddress endpoint) {
    Host h = hosts.get(endpoint);
    return h != null && h.ejected;
  }

  /** An HTTP status from {@code endpoint} (or the one standing for a local failure: 503 connect/reset, 504 timeout). */
  public void report(InetSocketAddress endpoint, int status) {
    Host h = endpoint == null ? null : hosts.get(endpoint);
    if (h == null) {
      return;
    }
    Settings s = settings;
    if (status >= 500 && status < 600) {
      if (status >= 502 && status <= 504) {
        if (h.consecutiveGateway.incrementAndGet() == s.consecutiveGateway && s.consecutiveGateway > 0) {
          detectedGateway.incrementAndGet();
          consecutiveError(h, Cause.CONSECUTIVE_GATEWAY_FAILURE);
        }
      } else if (h.consecutiveGateway.get() != 0) {
        h.consecutiveGateway.set(0);
      }
      if (h.consecutive5xx.incrementAndGet() == s.consecutive5xx && s.consecutive5xx > 0) {
        detected5xx.incrementAndGet();
        consecutiveError(h, Cause.CONSECUTIVE_5XX);
      }
    } else {
      // read first: most responses find both at 0, and a write would bounce the line between loops
      if (h.consecutive5xx.get() != 0) {
        h.consecutive5xx.set(0);
      }
      if (h.consecutiveGateway.get() != 0) {
        h.consecutiveGateway.set(0);
      }
    }
  }

  /**
   * A failure of the proxy's own towards {@code endpoint} — connect failure, reset before the response,
   * timeout — standing for {@code status} (503/504). Without splitExternalLocalOriginErrors it counts as that
   * status ({@link #report}); with it, only towards consecutiveLocalOriginFailures.
   */
  public void reportLocalFailure(InetSocketAddress endpoint, int status) {
    Settings s = settings;
    if (!s.splitLocalOrigin) {
      report(endpoint, status);
      return;
    }
    Host h = endpoint == null ? null : hosts.get(endpoint);
    if (h != null && h.consecutiveLocal.incrementAndGet() == s.consecutiveLocalOrigin && s.consecutiveLocalOrigin > 0) {
      consecutiveError(h, Cause.CONSECUTIVE_LOCAL_ORIGIN_FAILURE);
    }
  }

  /** The proxy reached {@code endpoint} (a connection to send on): with the split, local failures start again. */
  public void reportConnected(InetSocketAddress endpoint) {
    if (!settings.splitLocalOrigin) {
      return;
    }
    Host h = endpoint == null ? null : hosts.get(endpoint);
    if (h != null && h.consecutiveLocal.get() != 0) {
      h.consecutiveLocal.set(0);
    }
  }

  private synchronized void consecutiveError(Host h, Cause cause) {
    if (hosts.get(h.address) != h || h.ejected) {
      return; // removed meanwhile, or already out
    }
    Settings s = settings;
    double percent = 100.0 * (active + 1) / hosts.size();
    if (percent <= s.maxEjectionPercent) {
      h.ejected = true;
      h.ejectedAtMillis = clock.millis();
      h.ejections++;
      if (h.backoff * s.baseEjectionMillis < s.maxEjectionMillis + s.baseEjectionMillis) {
        h.backoff++;
      }
      active++;
      enforcedTotal.incrementAndGet();
      (cause == Cause.CONSECUTIVE_5XX ? enforced5xx : cause == Cause.CONSECUTIVE_GATEWAY_FAILURE ? enforcedGateway : enforcedLocal)
          .incrementAndGet();
      updateEjecting();
    } else {
      overflow.incrementAndGet();
    }
    // a new bout of errors is counted afresh whether or not it ejected (Envoy resets the counter that fired)
    (cause == Cause.CONSECUTIVE_5XX ? h.consecutive5xx : cause == Cause.CONSECUTIVE_GATEWAY_FAILURE ? h.consecutiveGateway
        : h.consecutiveLocal).set(0);
  }

  /** Sweeps when an interval has passed since the last sweep; the proxy's timer calls this often. */
  public void maybeSweep() {
    long now = clock.millis();
    boolean due;
    synchronized (this) {
      due = now - lastSweepMillis >= settings.intervalMillis;
    }
    if (due) {
      sweep();
    }
  }

  /**
   * Envoy's interval timer: returns the endpoints whose ejection time ({@code base × backoff}, capped at
   * the max) is over, and shrinks the backoff of those in service for an interval or more.
   */
  public synchronized void sweep() {
    long now = clock.millis();
    lastSweepMillis = now;
    Settings s = settings;
    for (Host h : hosts.values()) {
      if (h.ejected) {
        long ejectFor = Math.min(s.baseEjectionMillis * h.backoff, s.maxEjectionMillis);
        if (now - h.ejectedAtMillis >= ejectFor) {
          h.ejected = false;
          h.consecutive5xx.set(0);
          h.consecutiveGateway.set(0);
          h.consecutiveLocal.set(0);
          h.unejectedAtMillis = now;
          active--;
        }
      } else if (h.unejectedAtMillis >= 0 && now - h.unejectedAtMillis >= s.intervalMillis && h.backoff > 0) {
        h.backoff--;
      }
    }
    updateEjecting();
  }

  /** Envoy's panic: below minHealthPercent healthy the balancer uses every endpoint it has, ejected or not. */
  private void updateEjecting() {
    version++;
    if (active == 0) {
      ejecting = false;
      return;
    }
    int total = hosts.size();
    int healthy = 0;
    for (Host h : hosts.values()) {
      if (!h.ejected && balanced.contains(h.address)) {
        healthy++;
      }
    }
    ejecting = total == 0 || 100L * healthy >= (long) settings.minHealthPercent * total;
  }

  /** Endpoints ejected now (Envoy's {@code outlier_detection.ejections_active}). */
  public synchronized int ejectionsActive() {
    return active;
  }

  /** Whether the cluster is in panic: ejections exist but the balancer ignores them (minHealthPercent). */
  public synchronized boolean panic() {
    return active > 0 && !ejecting;
  }

  public long ejectionsEnforcedTotal() {
    return enforcedTotal.get();
  }

  public long ejectionsEnforcedConsecutive5xx() {
    return enforced5xx.get();
  }

  public long ejectionsEnforcedConsecutiveGatewayFailure() {
    return enforcedGateway.get();
  }

  public long ejectionsEnforcedConsecutiveLocalOriginFailure() {
    return enforcedLocal.get();
  }

  public long ejectionsDetectedConsecutive5xx() {
    return detected5xx.get();
  }

  public long ejectionsDetectedConsecutiveGatewayFailure() {
    return detectedGateway.get();
  }

  /** Ejections refused because they would pass maxEjectionPercent. */
  public long ejectionsOverflow() {
    return overflow.get();
  }

  /** For tests and /clusters: ejected endpoints. */
  public synchronized Set<InetSocketAddress> ejected() {
    Set<InetSocketAddress> out = new java.util.HashSet<>();
    hosts.values().forEach(h -> {
      if (h.ejected) {
        out.add(h.address);
      }
    });
    return Set.copyOf(out);
  }
}
