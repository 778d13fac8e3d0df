package dev.lattice.telemetry.generator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lattice.events.FlowDirection;
import dev.lattice.events.FlowRecord;
import dev.lattice.telemetry.flow.FlowSignals;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class FlowGeneratorTest {

  @Test
  void everyExchangeIsCountedExactlyOnceAndBothProxiesReportMeshHops() {
    FlowGenerator generator = new FlowGenerator(3);
    Instant t = Instant.parse("2026-12-03T12:00:00Z");
    int pairs = 0;
    Map<String, Integer> countedByReporter = new TreeMap<>();
    for (int i = 0; i < 5_000; i++) {
      List<FlowRecord> exchange = generator.nextExchange(t.plusMillis(i));
      assertThat(exchange).hasSizeBetween(1, 2);
      assertThat(exchange.stream().filter(FlowSignals::counted).count()).as("exchange %s", exchange).isEqualTo(1);
      assertThat(exchange).extracting(FlowRecord::getRequestId).containsOnly(exchange.get(0).getRequestId());
      if (exchange.size() == 2) {
        pairs++;
        assertThat(exchange).extracting(FlowRecord::getDirection)
            .containsExactly(FlowDirection.OUTBOUND, FlowDirection.INBOUND);
        assertThat(exchange.get(1).getLatencyMicros()).isLessThanOrEqualTo(exchange.get(0).getLatencyMicros());
      }
      exchange.stream().filter(FlowSignals::counted)
          .forEach(f -> countedByReporter.merge(FlowSignals.reporter(f), 1, Integer::sum));
    }
    assertThat(pairs).isGreaterThan(2_500);
    // external calls and connection failures count from the caller's report
    assertThat(countedByReporter).containsKeys("source", "destination");
    assertThat(countedByReporter.get("destination")).isGreaterThan(countedByReporter.get("source"));
  }

  @Test
  void aDenialCarriesItsPolicyOnTheDestinationsReportOnly() {
    FlowGenerator generator = new FlowGenerator(4);
    Instant t = Instant.parse("2026-12-03T12:00:00Z");
    int denials = 0;
    for (int i = 0; i < 3_000; i++) {
      List<FlowRecord> exchange = generator.nextExchange(t.plusMillis(i));
      FlowRecord first = exchange.get(0);
      if (exchange.size() == 2 && FlowSignals.denied(exchange.get(1))) {
        denials++;
        assertThat(exchange.get(1).getPolicy()).isEqualTo(FlowGenerator.DENYING_POLICY);
        assertThat(FlowSignals.denied(first)).isFalse();
        assertThat(FlowSignals.httpStatus(first)).isEqualTo(403);
      }
    }
    assertThat(denials).isPositive();
  }
}
