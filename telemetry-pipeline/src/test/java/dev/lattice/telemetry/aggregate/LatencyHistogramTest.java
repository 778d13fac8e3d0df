package dev.lattice.telemetry.aggregate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.lattice.events.FlowRecord;
import dev.lattice.events.LatencySketch;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LatencyHistogramTest {

  @ParameterizedTest
  @ValueSource(longs = {1, 7, 42, 12_345})
  void quantilesStayWithinTheStatedRelativeErrorOfTheExactNearestRank(long seed) {
    Random random = new Random(seed);
    long[] values = new long[5_000];
    LatencyHistogram h = LatencyHistogram.empty();
    for (int i = 0; i < values.length; i++) {
      values[i] = 10 + Math.round(Math.exp(4 + 3 * random.nextGaussian()));
      h.record(values[i]);
    }
    Arrays.sort(values);
    for (double q : new double[] {0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0}) {
      long exact = values[(int) Math.max(0, Math.ceil(q * values.length) - 1)];
      assertThat(h.quantile(q)).as("q=" + q).isCloseTo(exact,
          within(exact * LatencyHistogram.RELATIVE_ERROR * (1 + 1e-9)));
    }
    assertThat(h.maxMicros()).isEqualTo(values[values.length - 1]);
    assertThat(h.count()).isEqualTo(values.length);
  }

  @Test
  void mergingTwoHalvesEqualsRecordingEverythingInOne() {
    Random random = new Random(3);
    LatencyHistogram all = LatencyHistogram.empty();
    LatencyHistogram a = LatencyHistogram.empty();
    LatencyHistogram b = LatencyHistogram.empty();
    for (int i = 0; i < 2_000; i++) {
      long v = (long) (random.nextDouble() * 2_000_000);
      all.record(v);
      (i % 2 == 0 ? a : b).record(v);
    }
    a.merge(b);
    assertThat(a).isEqualTo(all);
  }

  @Test
  void theEventFormRoundTripsAndMergesByBucketIndex() {
    LatencyHistogram h = LatencyHistogram.empty();
    h.record(5);
    h.record(1_000);
    h.record(250_000_000); // above the top bound: last bucket, true max kept
    LatencySketch sketch = h.toSketch();
    assertThat(sketch.getFirstBucket()).isZero();
    assertThat(sketch.getRelativeError()).isEqualTo(LatencyHistogram.RELATIVE_ERROR);
    assertThat(LatencyHistogram.fromSketch(sketch)).isEqualTo(h);
    assertThat(LatencyHistogram.fromSketch(sketch).quantile(1.0)).isEqualTo(250_000_000);

    LatencyHistogram only = LatencyHistogram.empty();
    only.record(1_000);
    assertThat(only.toSketch().getFirstBucket()).isEqualTo(LatencyHistogram.bucketOf(1_000));
    assertThat(only.toSketch().getCounts()).containsExactly(1L);
  }

  @Test
  void aSketchOfAnotherLayoutIsRefusedNamingBoth() {
    LatencySketch old = LatencySketch.newBuilder().setCounts(java.util.List.of(1L)).build(); // base 100, growth 2
    assertThatThrownBy(() -> LatencyHistogram.fromSketch(old))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("base 100 µs, growth 2.0").hasMessageContaining("expected: base 10 µs, growth 1.04");
  }

  @Test
  void storeBytesRoundTripAndCorruptBytesAreRefused() {
    FlowStats stats = FlowStats.empty();
    stats.add(TelemetryTopologyTest.flow("shop", "a", "shop", "b", TelemetryTopologyTest.T0, 503, 12_000));
    byte[] bytes = stats.toBytes();
    assertThat(FlowStats.fromBytes(bytes)).isEqualTo(stats);
    assertThatThrownBy(() -> FlowStats.fromBytes(Arrays.copyOf(bytes, bytes.length / 2)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("truncated");
    byte[] future = bytes.clone();
    future[0] = 9;
    assertThatThrownBy(() -> FlowStats.fromBytes(future)).hasMessageContaining("format 9 (expected: 1)");
    assertThatThrownBy(() -> LatencyHistogram.empty().quantile(1.5)).hasMessageContaining("expected: 0..1");
  }

  @Test
  void storeRoundTripsMergeLikeTheOriginals() {
    // The store path: read the aggregate, merge one flow's stats (itself read back), write it — repeated.
    Random random = new Random(11);
    FlowStats direct = FlowStats.empty();
    byte[] stored = FlowStats.empty().toBytes();
    for (int i = 0; i < 2_000; i++) {
      long micros = (long) Math.exp(random.nextDouble() * 18); // 1 µs .. ~65 s, over most buckets
      FlowRecord f = TelemetryTopologyTest.flow("shop", "a", "shop", "b", TelemetryTopologyTest.T0,
          i % 7 == 0 ? 503 : 200, micros);
      direct.add(f);
      FlowStats one = FlowStats.fromBytes(FlowStats.empty().add(f).toBytes());
      stored = FlowStats.fromBytes(stored).merge(one).toBytes();
    }
    assertThat(FlowStats.fromBytes(stored)).isEqualTo(direct);
    assertThat(stored).isEqualTo(direct.toBytes());
    assertThat(FlowStats.fromBytes(stored).latency().quantile(0.99)).isEqualTo(direct.latency().quantile(0.99));
  }
}
