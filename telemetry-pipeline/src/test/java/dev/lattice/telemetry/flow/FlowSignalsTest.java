package dev.lattice.telemetry.flow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lattice.events.FlowDirection;
import dev.lattice.events.FlowEndpoint;
import dev.lattice.events.FlowRecord;
import dev.lattice.events.FlowVerdict;
import dev.lattice.events.L4Protocol;
import dev.lattice.events.L7Flow;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class FlowSignalsTest {

  private static FlowRecord flow(Integer status, FlowVerdict verdict, String dropReason, String policy,
      List<String> flags, boolean tcp) {
    return FlowRecord.newBuilder().setTime(Instant.parse("2026-12-03T12:00:00Z"))
        .setDirection(FlowDirection.OUTBOUND)
        .setSource(FlowEndpoint.newBuilder().setIp("10.0.0.9").setPort(1).build())
        .setDestination(FlowEndpoint.newBuilder().setIp("203.0.113.1").setPort(443).build())
        .setL4Protocol(L4Protocol.TCP)
        .setL7(tcp ? null : L7Flow.newBuilder().setHttpStatus(status).setHost("API.Example.com").build())
        .setVerdict(verdict).setDropReason(dropReason).setPolicy(policy).setResponseFlags(flags).build();
  }

  @ParameterizedTest(name = "{0} {1} {2} {3} {4} → class {5} error {6} denied {7} rate-limited {8}")
  @CsvSource(delimiter = ';', nullValues = "null", value = {
      "200; FORWARDED; null; null; ; 2xx; false; false; false",
      "404; FORWARDED; null; null; ; 4xx; false; false; false",
      "503; ERROR; upstream-failure; null; UF; 5xx; true; false; false",
      "403; DROPPED; authorization-denied; AuthorizationPolicy/ns/p; RBAC; 4xx; true; true; false",
      "403; DROPPED; null; AuthorizationPolicy/ns/p; ; 4xx; true; true; false",
      "429; DROPPED; rate-limited; RateLimitPolicy/ns/r; RL; 4xx; true; false; true",
      "429; FORWARDED; null; null; ; 4xx; false; false; true",
      "null; ERROR; no-healthy-upstream; null; UH; none; true; false; false"})
  void classifiesStatusesVerdictsAndFlags(Integer status, FlowVerdict verdict, String dropReason, String policy,
      String flags, String codeClass, boolean error, boolean denied, boolean rateLimited) {
    FlowRecord f = flow(status, verdict, dropReason, policy, flags == null ? List.of() : List.of(flags.split(",")),
        false);
    assertThat(FlowSignals.codeClass(f)).isEqualTo(codeClass);
    assertThat(FlowSignals.error(f)).isEqualTo(error);
    assertThat(FlowSignals.denied(f)).isEqualTo(denied);
    assertThat(FlowSignals.rateLimited(f)).isEqualTo(rateLimited);
    assertThat(FlowSignals.source(f)).isEqualTo(FlowSignals.UNKNOWN);
    assertThat(FlowSignals.destination(f)).isEqualTo("external/api.example.com");
  }

  @ParameterizedTest
  @CsvSource({"true, tcp, external/203.0.113.1:443"})
  void tcpFlowsHaveNoStatusAndExternalAddresses(boolean tcp, String codeClass, String destination) {
    FlowRecord f = flow(null, FlowVerdict.FORWARDED, null, null, List.of(), tcp);
    assertThat(FlowSignals.codeClass(f)).isEqualTo(codeClass);
    assertThat(FlowSignals.tcp(f)).isTrue();
    assertThat(FlowSignals.destination(f)).isEqualTo(destination);
  }

  @ParameterizedTest(name = "{0} to workload {1}, verdict {2}, flags [{3}] → counted {4}")
  @CsvSource(delimiter = ';', nullValues = "null", value = {
      "INBOUND; true; FORWARDED; ; true",
      "INBOUND; false; FORWARDED; ; true",
      "OUTBOUND; true; FORWARDED; ; false",       // the destination's proxy reports it
      "OUTBOUND; true; ERROR; URX; false",        // retried 5xx: the destination saw (and reported) it
      "OUTBOUND; true; ERROR; UF; true",          // never reached the destination
      "OUTBOUND; true; ERROR; UH; true",
      "OUTBOUND; true; FORWARDED; RL; true",      // rate limited by the caller's proxy
      "OUTBOUND; true; DROPPED; ; true",          // dropped by the caller's proxy
      "OUTBOUND; false; FORWARDED; ; true"})      // external destination: nobody else reports it
  void countsARequestOnceWhateverReportsIt(FlowDirection direction, boolean meshDestination, FlowVerdict verdict,
      String flags, boolean counted) {
    FlowRecord f = FlowRecord.newBuilder(flow(200, verdict, null, null,
            flags == null ? List.of() : List.of(flags.split(",")), false))
        .setDirection(direction)
        .setDestination(FlowEndpoint.newBuilder().setIp("10.0.0.2").setPort(8080)
            .setNamespace(meshDestination ? "shop" : null).setWorkload(meshDestination ? "cart" : null).build())
        .build();
    assertThat(FlowSignals.counted(f)).isEqualTo(counted);
    assertThat(FlowSignals.reporter(f)).isEqualTo(direction == FlowDirection.INBOUND ? "destination" : "source");
  }
}
