package dev.lattice.telemetry.aggregate;

import dev.lattice.events.LatencySketch;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A mergeable latency sketch with a stated relative-error bound: log-scale buckets (DDSketch's
 * logarithmic mapping) laid out exactly as the {@link LatencySketch} event says, so the pipeline, the
 * query API and users' own consumers of {@code lattice.metrics.v1} merge windows and partitions by adding
 * counts of the same bucket index.
 *
 * <p>Bucket 0 counts values below {@value #BASE_MICROS} µs; bucket i ≥ 1 counts
 * [{@code BASE·GROWTH^(i-1)}, {@code BASE·GROWTH^i}); values above the top bound (~137 s) fall into the
 * last bucket. A quantile is estimated by its bucket's harmonic midpoint, capped at the maximum seen, so
 * for values ≥ {@value #BASE_MICROS} µs the estimate is within {@link #RELATIVE_ERROR} (≈1.96 %) of the
 * exact nearest-rank quantile; below that the error is under {@value #BASE_MICROS} µs absolute.
 *
 * <p>Mutable and not thread-safe: one owner (a Streams aggregate, a query merging results).
 */
public final class LatencyHistogram {

  /** Upper bound of bucket 0, in microseconds. */
  public static final long BASE_MICROS = 10;
  /** Ratio between successive bucket bounds. */
  public static final double GROWTH = 1.04;
  /** Number of buckets; the last one also counts everything above its lower bound. */
  public static final int BUCKETS = 420;
  /** Relative-error bound of {@link #quantile} for values ≥ {@link #BASE_MICROS}: (γ−1)/(γ+1). */
  public static final double RELATIVE_ERROR = (GROWTH - 1) / (GROWTH + 1);

  private static final double LOG_GROWTH = Math.log(GROWTH);

  private final long[] counts = new long[BUCKETS];
  private long total;
  private long sumMicros;
  private long maxMicros;
  // Lowest and highest bucket that may be non-empty (lo > hi: none): the store round trip (read, merge one
  // flow, write) of every flow loops over these only, not all 420 buckets.
  private int lo = BUCKETS;
  private int hi = -1;

  /** An empty histogram. */
  public static LatencyHistogram empty() {
    return new LatencyHistogram();
  }

  /**
   * A histogram from a {@link LatencySketch} event.
   *
   * @throws IllegalArgumentException when the sketch uses another layout than this class (base, growth)
   */
  public static LatencyHistogram fromSketch(LatencySketch sketch) {
    if (sketch.getBaseMicros() != BASE_MICROS || Math.abs(sketch.getGrowth() - GROWTH) > 1e-12) {
      throw new IllegalArgumentException("latency sketch layout: base " + sketch.getBaseMicros() + " µs, growth "
          + sketch.getGrowth() + " (expected: base " + BASE_MICROS + " µs, growth " + GROWTH + ")");
    }
    LatencyHistogram h = new LatencyHistogram();
    List<Long> c = sketch.getCounts();
    int first = sketch.getFirstBucket();
    for (int j = 0; j < c.size(); j++) {
      int index = Math.min(BUCKETS - 1, first + j);
      h.counts[index] += c.get(j);
      h.total += c.get(j);
      h.widen(index, index);
    }
    h.sumMicros = sketch.getSumMicros();
    h.maxMicros = sketch.getMaxMicros();
    return h;
  }

  /** The bucket of a value in microseconds (negative values count as 0). */
  public static int bucketOf(long micros) {
    if (micros < BASE_MICROS) {
      return 0;
    }
    int i = 1 + (int) Math.floor(Math.log((double) micros / BASE_MICROS) / LOG_GROWTH);
    return Math.min(BUCKETS - 1, i);
  }

  /** Adds one value in microseconds. */
  public void record(long micros) {
    long v = Math.max(0, micros);
    int b = bucketOf(v);
    counts[b]++;
    widen(b, b);
    total++;
    sumMicros += v;
    maxMicros = Math.max(maxMicros, v);
  }

  /** Adds every value of {@code other} (same layout by construction). */
  public void merge(LatencyHistogram other) {
    for (int i = other.lo; i <= other.hi; i++) {
      counts[i] += other.counts[i];
    }
    if (other.lo <= other.hi) {
      widen(other.lo, other.hi);
    }
    total += other.total;
    sumMicros += other.sumMicros;
    maxMicros = Math.max(maxMicros, other.maxMicros);
  }

  private void widen(int from, int to) {
    lo = Math.min(lo, from);
    hi = Math.max(hi, to);
  }

  /** Number of values. */
  public long count() {
    return total;
  }

  /** Sum of the values, µs. */
  public long sumMicros() {
    return sumMicros;
  }

  /** Largest value, µs (0 when empty). */
  public long maxMicros() {
    return maxMicros;
  }

  /** Mean in µs, 0 when empty. */
  public double meanMicros() {
    return total == 0 ? 0 : (double) sumMicros / total;
  }

  /**
   * The estimated nearest-rank quantile in µs (the smallest value with at least {@code q·count} values at
   * or below it), 0 when empty.
   *
   * @param q in [0, 1]
   */
  public double quantile(double q) {
    if (q < 0 || q > 1 || Double.isNaN(q)) {
      throw new IllegalArgumentException("quantile: " + q + " (expected: 0..1)");
    }
    if (total == 0) {
      return 0;
    }
    long rank = Math.max(1, (long) Math.ceil(q * total));
    long seen = 0;
    for (int i = 0; i < BUCKETS; i++) {
      seen += counts[i];
      if (seen >= rank) {
        // The last bucket is open-ended: its only honest estimate is the maximum seen.
        return i == BUCKETS - 1 ? maxMicros : Math.min(maxMicros, estimate(i));
      }
    }
    return maxMicros;
  }

  /**
   * The values per classic histogram bucket ({@code le} bounds in µs, ascending; a last slot counts the
   * rest, Prometheus' {@code +Inf}). Each sketch bucket goes whole to the first bound at or above its
   * estimate ({@link #quantile}'s), so a value within the sketch's 4 % bucket width of a bound may land in
   * the neighbouring bucket; counts and sums are exact.
   */
  public long[] countsByUpperBound(double[] boundsMicros) {
    long[] out = new long[boundsMicros.length + 1];
    for (int i = 0; i < BUCKETS; i++) {
      if (counts[i] == 0) {
        continue;
      }
      double value = i == BUCKETS - 1 ? maxMicros : Math.min(maxMicros, estimate(i));
      int slot = 0;
      while (slot < boundsMicros.length && value > boundsMicros[slot]) {
        slot++;
      }
      out[slot] += counts[i];
    }
    return out;
  }

  private static double estimate(int bucket) {
    if (bucket == 0) {
      return BASE_MICROS / 2.0;
    }
    double lower = BASE_MICROS * Math.pow(GROWTH, bucket - 1);
    double upper = lower * GROWTH;
    return 2 * lower * upper / (lower + upper);
  }

  /** The event form, leading and trailing empty buckets left out. */
  public LatencySketch toSketch() {
    int first = 0;
    while (first < BUCKETS && counts[first] == 0) {
      first++;
    }
    int last = BUCKETS - 1;
    while (last >= first && counts[last] == 0) {
      last--;
    }
    List<Long> c = new ArrayList<>(Math.max(0, last - first + 1));
    for (int i = first; i <= last; i++) {
      c.add(counts[i]);
    }
    return LatencySketch.newBuilder().setBaseMicros(BASE_MICROS).setGrowth(GROWTH)
        .setFirstBucket(c.isEmpty() ? 0 : first).setCounts(c).setSumMicros(sumMicros).setMaxMicros(maxMicros)
        .setRelativeError(RELATIVE_ERROR).build();
  }

  /** Bytes {@link #writeTo} needs at most. */
  int encodedSizeBound() {
    return 3 * 10 + 5 + Math.max(0, hi - lo + 1) * (5 + 10);
  }

  /** Sparse binary form: total, sum, max, non-empty bucket count, then (index delta, count) varints. */
  void writeTo(ByteBuffer out) {
    Varints.writeLong(out, total);
    Varints.writeLong(out, sumMicros);
    Varints.writeLong(out, maxMicros);
    int nonEmpty = 0;
    for (int i = lo; i <= hi; i++) {
      if (counts[i] != 0) {
        nonEmpty++;
      }
    }
    Varints.writeLong(out, nonEmpty);
    int previous = 0;
    for (int i = lo; i <= hi; i++) {
      if (counts[i] != 0) {
        Varints.writeLong(out, i - previous);
        Varints.writeLong(out, counts[i]);
        previous = i;
      }
    }
  }

  static LatencyHistogram readFrom(ByteBuffer in) {
    LatencyHistogram h = new LatencyHistogram();
    h.total = Varints.readLong(in);
    h.sumMicros = Varints.readLong(in);
    h.maxMicros = Varints.readLong(in);
    long nonEmpty = Varints.readLong(in);
    if (nonEmpty < 0 || nonEmpty > BUCKETS) {
      throw new IllegalArgumentException("latency histogram: " + nonEmpty + " buckets (expected: 0.." + BUCKETS + ")");
    }
    int index = 0;
    for (int j = 0; j < nonEmpty; j++) {
      index += (int) Varints.readLong(in);
      if (index < 0 || index >= BUCKETS) {
        throw new IllegalArgumentException("latency histogram: bucket " + index + " (expected: 0.." + (BUCKETS - 1) + ")");
      }
      h.counts[index] = Varints.readLong(in);
      h.widen(index, index);
    }
    return h;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof LatencyHistogram h && total == h.total && sumMicros == h.sumMicros
        && maxMicros == h.maxMicros && Arrays.equals(counts, h.counts);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(counts);
  }

  @Override
  public String toString() {
    return "LatencyHistogram[n=" + total + ", p50=" + quantile(0.5) + ", p99=" + quantile(0.99) + ", max=" + maxMicros + "]";
  }
}
