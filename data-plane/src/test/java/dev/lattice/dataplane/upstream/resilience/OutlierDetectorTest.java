package dev.lattice.dataplane.upstream.resilience;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lattice.dataplane.upstream.lb.ActiveRequests;
import dev.lattice.dataplane.upstream.lb.LoadBalancer;
import dev.lattice.dataplane.upstream.lb.WeightedEndpoint;
import dev.lattice.events.policy.ConsistentHashLoadBalancer;
import dev.lattice.events.policy.LoadBalancerSettings;
import dev.lattice.events.policy.OutlierDetection;
import dev.lattice.events.policy.SimpleLoadBalancer;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The ejection state machine on a hand-moved clock, and every balancer skipping what it ejects. */
class OutlierDetectorTest {
  private final AtomicLong now = new AtomicLong(1_000_000);
  private final Clock clock =
      new Clock() {
        @Override public ZoneOffset getZone() { return ZoneOffset.UTC; }
        @Override public Clock withZone(java.time.ZoneId z) { return this; }
        @Override public Instant instant() { return Instant.ofEpochMilli(now.get()); }
      };

  private static final InetSocketAddress A = new InetSocketAddress("10.0.0.1", 9080);
  private static final InetSocketAddress B = new InetSocketAddress("10.0.0.2", 9080);
  private static final InetSocketAddress C = new InetSocketAddress("10.0.0.3", 9080);

  private static OutlierDetection.Builder od() {
    return OutlierDetection.newBuilder().setConsecutive5xxErrors(3).setInterval(1_000L).setBaseEjectionTime(10_000L)
        .setMaxEjectionPercent(100);
  }

  private OutlierDetector detector(OutlierDetection od, InetSocketAddress... eps) {
    OutlierDetector d = new OutlierDetector(OutlierDetector.Settings.of(od), clock);
    d.configure(OutlierDetector.Settings.of(od), List.of(eps), List.of(eps));
    return d;
  }

  private void advance(long ms) {
    now.addAndGet(ms);
  }

  @Test
  void consecutive5xxEjectAndTheSweepReturnsAfterTheBaseEjectionTime() {
    OutlierDetector d = detector(od().build(), A, B, C);
    d.report(A, 500);
    d.report(A, 503);
    assertThat(d.isEjected(A)).isFalse();
    d.report(A, 502);
    assertThat(d.isEjected(A)).isTrue();
    assertThat(d.ejecting()).isTrue();
    assertThat(d.ejectionsActive()).isEqualTo(1);
    assertThat(d.ejectionsEnforcedConsecutive5xx()).isEqualTo(1);
    assertThat(d.host(A).ejections()).isEqualTo(1);

    advance(9_999);
    d.sweep();
    assertThat(d.isEjected(A)).as("before the base ejection time").isTrue();
    advance(1);
    d.sweep();
    assertThat(d.isEjected(A)).as("at the base ejection time").isFalse();
    assertThat(d.ejecting()).isFalse();
    assertThat(d.ejectionsActive()).isZero();
  }

  @Test
  void aSuccessInBetweenResetsTheCount() {
    OutlierDetector d = detector(od().build(), A, B);
    d.report(A, 500);
    d.report(A, 500);
    d.report(A, 200);
    d.report(A, 500);
    d.report(A, 500);
    assertThat(d.isEjected(A)).isFalse();
    d.report(A, 404); // a 4xx is the client's fault: it resets too
    d.report(A, 500);
    d.report(A, 500);
    assertThat(d.isEjected(A)).isFalse();
    d.report(A, 500);
    assertThat(d.isEjected(A)).isTrue();
  }

  @Test
  void ejectionTimeGrowsWithEachEjectionAndShrinksWhileInService() {
    OutlierDetector d = detector(od().build(), A, B);
    eject(d, A);
    advance(10_000);
    d.sweep();
    assertThat(d.isEjected(A)).isFalse();
    eject(d, A); // second ejection in a row: 2 × base
    assertThat(d.host(A).ejections()).isEqualTo(2);
    advance(10_000);
    d.sweep();
    assertThat(d.isEjected(A)).as("2 × base not over").isTrue();
    advance(10_000);
    d.sweep();
    assertThat(d.isEjected(A)).isFalse();
    assertThat(d.host(A).backoff()).isEqualTo(2);
    // each interval in service takes one off the multiplier
    advance(1_000);
    d.sweep();
    assertThat(d.host(A).backoff()).isEqualTo(1);
    advance(1_000);
    d.sweep();
    assertThat(d.host(A).backoff()).isZero();
    eject(d, A);
    advance(10_000);
    d.sweep();
    assertThat(d.isEjected(A)).as("back to 1 × base").isFalse();
  }

  @Test
  void ejectionTimeIsCappedAtEnvoysMaxEjectionTime() {
    OutlierDetector d = detector(od().setBaseEjectionTime(100_000L).build(), A, B);
    for (int i = 0; i < 5; i++) {
      eject(d, A);
      advance(300_000); // cap = max(300 s, base)
      d.sweep();
      assertThat(d.isEjected(A)).as("ejection " + (i + 1) + " lasts at most 300 s").isFalse();
    }
  }

  @Test
  void maxEjectionPercentIsCheckedAsEnvoyDoes() {
    // 3 endpoints, 50 %: the first ejection is 33 %, a second would be 67 %
    OutlierDetector d = detector(od().setMaxEjectionPercent(50).build(), A, B, C);
    eject(d, A);
    eject(d, B);
    assertThat(d.ejected()).containsExactly(A);
    assertThat(d.ejectionsOverflow()).isEqualTo(1);
    // B's bout was counted and reset: three more 5xx are a new bout, refused again while A is out
    eject(d, B);
    assertThat(d.ejectionsOverflow()).isEqualTo(2);
    advance(10_000);
    d.sweep();
    eject(d, B);
    assertThat(d.ejected()).containsExactly(B);
  }

  @Test
  void theDefaultTenPercentEjectsNothingFromASmallCluster() {
    // Envoy without always_eject_one_host, which Istio does not set: 100 × 1/3 > 10
    OutlierDetection defaults = OutlierDetection.newBuilder().setConsecutive5xxErrors(3).build();
    OutlierDetector d = detector(defaults, A, B, C);
    eject(d, A);
    assertThat(d.ejected()).isEmpty();
    assertThat(d.ejectionsOverflow()).isEqualTo(1);
  }

  @Test
  void gatewayErrorsCountOnlyWhenConfiguredAndA500BreaksTheirRun() {
    OutlierDetection gw = OutlierDetection.newBuilder().setConsecutive5xxErrors(0).setConsecutiveGatewayErrors(2)
        .setMaxEjectionPercent(100).build();
    OutlierDetector d = detector(gw, A, B);
    d.report(A, 503);
    d.report(A, 500); // not a gateway error: resets the gateway count
    d.report(A, 504);
    assertThat(d.isEjected(A)).isFalse();
    d.report(A, 502);
    assertThat(d.isEjected(A)).isTrue();
    assertThat(d.ejectionsEnforcedConsecutiveGatewayFailure()).isEqualTo(1);
    assertThat(d.ejectionsEnforcedConsecutive5xx()).isZero();

    // unset consecutiveGatewayErrors (Istio leaves Envoy's detector unenforced) and 5xx off: nothing ejects
    OutlierDetector none = detector(OutlierDetection.newBuilder().setConsecutive5xxErrors(0).setMaxEjectionPercent(100).build(), A, B);
    for (int i = 0; i < 20; i++) {
      none.report(A, 503);
    }
    assertThat(none.isEjected(A)).isFalse();
  }

  @Test
  void withTheLocalOriginSplitConnectFailuresCountApartFrom5xx() {
    // not split (Istio's default): a connect failure is a 503
    OutlierDetector joined = detector(od().build(), A, B);
    joined.reportLocalFailure(A, 503);
    joined.report(A, 500);
    joined.reportLocalFailure(A, 504);
    assertThat(joined.isEjected(A)).isTrue();

    OutlierDetector split = detector(od().setSplitExternalLocalOriginErrors(true).setConsecutiveLocalOriginFailures(2).build(), A, B);
    split.reportLocalFailure(A, 503);
    split.report(A, 500);
    split.report(A, 500);
    assertThat(split.isEjected(A)).as("two 5xx and one local failure: neither count reached").isFalse();
    split.reportConnected(A); // reaching the endpoint resets the local count, not the 5xx one
    split.reportLocalFailure(A, 503);
    assertThat(split.isEjected(A)).isFalse();
    split.reportLocalFailure(A, 504);
    assertThat(split.isEjected(A)).isTrue();
    assertThat(split.ejectionsEnforcedConsecutiveLocalOriginFailure()).isEqualTo(1);
    assertThat(OutlierDetector.Settings.of(OutlierDetection.newBuilder().setSplitExternalLocalOriginErrors(true).build())
        .consecutiveLocalOrigin()).isEqualTo(5);
  }

  @Test
  void minHealthPercentPanicsTheBalancerIntoIgnoringEjections() {
    OutlierDetector d = detector(od().setMinHealthPercent(60).build(), A, B, C);
    eject(d, A);
    assertThat(d.ejecting()).as("2 of 3 healthy = 67 % >= 60 %").isTrue();
    eject(d, B);
    assertThat(d.ejectionsActive()).isEqualTo(2);
    assertThat(d.ejecting()).as("1 of 3 = 33 % < 60 %: panic").isFalse();
    assertThat(d.panic()).isTrue();
  }

  @Test
  void stateOfEndpointsThatStayIsKeptAcrossConfigureAndTheGoneAreDropped() {
    OutlierDetector d = detector(od().build(), A, B, C);
    eject(d, A);
    eject(d, B);
    OutlierDetector.Host hostC = d.host(C);
    d.configure(OutlierDetector.Settings.of(od().build()), List.of(A, C), List.of(A, C));
    assertThat(d.isEjected(A)).isTrue();
    assertThat(d.host(A).ejections()).isEqualTo(1);
    assertThat(d.host(C)).isSameAs(hostC);
    assertThat(d.host(B)).isNull();
    assertThat(d.ejectionsActive()).isEqualTo(1);
    d.report(B, 500); // a late result of the removed endpoint: ignored
    d.disable();
    assertThat(d.isEjected(A)).isFalse();
    assertThat(d.ejecting()).isFalse();
  }

  @Test
  void maybeSweepWaitsForTheInterval() {
    OutlierDetector d = detector(od().setBaseEjectionTime(100L).setInterval(5_000L).build(), A, B);
    eject(d, A);
    advance(4_999);
    d.maybeSweep();
    assertThat(d.isEjected(A)).as("no sweep before the interval").isTrue();
    advance(1);
    d.maybeSweep();
    assertThat(d.isEjected(A)).isFalse();
  }

  @Test
  void badSettingsFailNamingTheField() {
    assertThatThrownBy(() -> OutlierDetector.Settings.of(OutlierDetection.newBuilder().setInterval(0L).build()))
        .hasMessage("outlierDetection.interval: 0 ms (expected: > 0)");
    assertThatThrownBy(() -> OutlierDetector.Settings.of(OutlierDetection.newBuilder().setMaxEjectionPercent(101).build()))
        .hasMessage("outlierDetection.maxEjectionPercent: 101 (expected: 0..100)");
    assertThatThrownBy(() -> OutlierDetector.Settings.of(OutlierDetection.newBuilder().setConsecutive5xxErrors(-1).build()))
        .hasMessageContaining("consecutive5xxErrors: -1");
    OutlierDetector.Settings s = OutlierDetector.Settings.of(OutlierDetection.newBuilder().build());
    assertThat(s).isEqualTo(new OutlierDetector.Settings(5, 0, 10_000, 30_000, 300_000, 10, 0));
  }

  // ---- balancers ----

  private static List<WeightedEndpoint> weighted(InetSocketAddress... eps) {
    List<WeightedEndpoint> out = new ArrayList<>();
    for (InetSocketAddress a : eps) {
      out.add(new WeightedEndpoint(a, 1));
    }
    return out;
  }

  private static LoadBalancerSettings simple(SimpleLoadBalancer s) {
    return LoadBalancerSettings.newBuilder().setSimple(s).build();
  }

  enum Lb { ROUND_ROBIN, RANDOM, LEAST_REQUEST }

  @ParameterizedTest
  @EnumSource(Lb.class)
  void everySimpleBalancerSkipsEjectedEndpoints(Lb kind) {
    OutlierDetector d = detector(od().build(), A, B, C);
    LoadBalancer lb = LoadBalancer.of(simple(SimpleLoadBalancer.valueOf(kind.name())), weighted(A, B, C),
        ActiveRequests.of(List.of(A, B, C), null), d);
    eject(d, B);
    Set<InetSocketAddress> seen = new HashSet<>();
    for (int i = 0; i < 300; i++) {
      seen.add(lb.pick(null, null));
    }
    assertThat(seen).containsExactlyInAnyOrder(A, C);
    // a retry avoiding A gets C, never the ejected B
    for (int i = 0; i < 50; i++) {
      assertThat(lb.pick(null, x -> !x.equals(A))).isEqualTo(C);
    }
    eject(d, C);
    for (int i = 0; i < 50; i++) {
      assertThat(lb.pick(null, x -> !x.equals(A))).as("only A left: the retry takes it anyway").isEqualTo(A);
    }
    eject(d, A);
    assertThat(lb.pick(null, null)).as("every endpoint ejected (no panic at minHealthPercent 0)").isNull();
    advance(10_000);
    d.sweep();
    seen.clear();
    for (int i = 0; i < 300; i++) {
      seen.add(lb.pick(null, null));
    }
    assertThat(seen).containsExactlyInAnyOrder(A, B, C);
  }

  @Test
  void ringHashMovesOnlyTheEjectedEndpointsKeys() {
    OutlierDetector d = detector(od().build(), A, B, C);
    LoadBalancerSettings hash = LoadBalancerSettings.newBuilder()
        .setConsistentHash(ConsistentHashLoadBalancer.newBuilder().setHttpHeaderName("x-user").build()).build();
    LoadBalancer lb = LoadBalancer.of(hash, weighted(A, B, C), ActiveRequests.of(List.of(A, B, C), null), d);
    LoadBalancer withoutB = LoadBalancer.of(hash, weighted(A, C), ActiveRequests.of(List.of(A, C), null));
    List<InetSocketAddress> before = new ArrayList<>();
    for (int i = 0; i < 1_000; i++) {
      before.add(lb.pick(user(i), null));
    }
    eject(d, B);
    int moved = 0;
    for (int i = 0; i < 1_000; i++) {
      InetSocketAddress now = lb.pick(user(i), null);
      assertThat(now).isNotEqualTo(B);
      assertThat(now).as("where a ring without B sends key " + i).isEqualTo(withoutB.pick(user(i), null));
      if (!now.equals(before.get(i))) {
        moved++;
        assertThat(before.get(i)).isEqualTo(B);
      }
    }
    assertThat(moved).isBetween(200, 500); // ~1/3 of the keys were B's
  }

  private static dev.lattice.dataplane.upstream.lb.LbRequest user(int i) {
    return new dev.lattice.dataplane.upstream.lb.LbRequest() {
      @Override public String header(String name) { return Map.of("x-user", "u" + i).get(name); }
      @Override public String query() { return null; }
      @Override public InetSocketAddress sourceAddress() { return null; }
    };
  }

  private static void eject(OutlierDetector d, InetSocketAddress a) {
    for (int i = 0; i < d.settings().consecutive5xx(); i++) {
      d.report(a, 500);
    }
  }
}
