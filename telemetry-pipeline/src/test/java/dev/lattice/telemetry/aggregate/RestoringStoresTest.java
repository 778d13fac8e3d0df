package dev.lattice.telemetry.aggregate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lattice.testkit.time.MutableClock;
import java.time.Duration;
import java.time.Instant;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/** Which stores count as restoring, as Streams' restore callbacks report them (real restores: TelemetryIntegrationTest). */
class RestoringStoresTest {

  static final TopicPartition P0 = new TopicPartition("app-telemetry-edge-1m-changelog", 0);
  static final TopicPartition P1 = new TopicPartition("app-telemetry-edge-1m-changelog", 1);

  final MutableClock clock = new MutableClock(Instant.parse("2026-12-04T21:00:00Z"));
  final RestoringStores stores = new RestoringStores(clock, Duration.ofMinutes(2));

  @Test
  void aStoreRestoresUntilEveryPartitionEndedOrWasSuspended() {
    assertThat(stores.restoring("telemetry-edge-1m")).isFalse();
    stores.onRestoreStart(P0, "telemetry-edge-1m", 0, 100);
    stores.onRestoreStart(P1, "telemetry-edge-1m", 0, 100);
    assertThat(stores.generation()).isEqualTo(2);
    assertThat(stores.restoring("telemetry-edge-1m")).isTrue();
    assertThat(stores.restoring("telemetry-edge-10s")).isFalse();
    stores.onRestoreEnd(P0, "telemetry-edge-1m", 100);
    assertThat(stores.restoring("telemetry-edge-1m")).isTrue();
    stores.onRestoreSuspended(P1, "telemetry-edge-1m", 40);
    assertThat(stores.restoring("telemetry-edge-1m")).isFalse();
    assertThat(stores.completed()).isEqualTo(1);
    // a reader compares generations: a restore that began while it read changes it
    long seen = stores.generation();
    stores.onRestoreStart(P0, "telemetry-edge-1m", 100, 200);
    assertThat(stores.generation()).isNotEqualTo(seen);
  }

  @Test
  void aRestoreThatStopsReportingProgressStopsCounting() {
    stores.onRestoreStart(P0, "telemetry-edge-1m", 0, 100);
    clock.advance(Duration.ofSeconds(90));
    stores.onBatchRestored(P0, "telemetry-edge-1m", 50, 50);
    clock.advance(Duration.ofSeconds(90));
    assertThat(stores.restoring("telemetry-edge-1m")).as("progress 90 s ago").isTrue();
    clock.advance(Duration.ofSeconds(31));
    assertThat(stores.restoring("telemetry-edge-1m")).as("no progress for 2 min").isFalse();
    // progress for a partition not (or no longer) restoring adds nothing
    stores.onBatchRestored(P1, "telemetry-edge-1m", 10, 10);
    assertThat(stores.restoring("telemetry-edge-1m")).isFalse();
  }
}
