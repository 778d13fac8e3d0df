package dev.lattice.telemetry.aggregate;

import dev.lattice.events.EdgeMetrics;
import dev.lattice.events.FlowRecord;
import dev.lattice.telemetry.flow.FlowSignals;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The golden signals of a set of flows (one key in one window, or a merge of several): counts, error
 * classes, response flags, deciding policies of denials, bytes, TCP connections, mTLS share and a
 * {@link LatencyHistogram}. {@link #add(FlowRecord)} is the Streams aggregator; {@link #merge} combines
 * windows or partitions exactly (every field is a sum, a max or a mergeable sketch).
 *
 * <p>Mutable and not thread-safe: one owner at a time.
 */
public final class FlowStats {

  private static final byte FORMAT_VERSION = 1;

  private long requests;
  private long errors;
  private long errors4xx;
  private long errors5xx;
  private long denied;
  private long rateLimited;
  private long bytesIn;
  private long bytesOut;
  private long tcpOpened;
  private long tcpClosed;
  private long mtls;
  private final Map<String, Long> responseFlags = new TreeMap<>();
  private final Map<String, Long> deniedBy = new TreeMap<>();
  private LatencyHistogram latency = LatencyHistogram.empty();

  /** No flows. */
  public static FlowStats empty() {
    return new FlowStats();
  }

  /**
   * The stats an {@code EdgeMetrics} event carries (the inverse of {@link EdgeMetricsMapping#toEvent}), so
   * events of several windows or partitions merge with {@link #merge}.
   */
  public static FlowStats fromEvent(EdgeMetrics m) {
    FlowStats s = new FlowStats();
    s.requests = m.getRequests();
    s.errors = m.getErrors();
    s.errors4xx = m.getErrors4xx();
    s.errors5xx = m.getErrors5xx();
    s.denied = m.getDenied();
    s.rateLimited = m.getRateLimited();
    s.bytesIn = m.getBytesIn();
    s.bytesOut = m.getBytesOut();
    s.tcpOpened = m.getTcpOpened();
    s.tcpClosed = m.getTcpClosed();
    s.mtls = m.getMtlsRequests();
    s.responseFlags.putAll(m.getResponseFlags());
    s.deniedBy.putAll(m.getDeniedBy());
    s.latency = LatencyHistogram.fromSketch(m.getLatency());
    return s;
  }

  /** Counts one flow; returns this (the Streams aggregator's contract). */
  public FlowStats add(FlowRecord flow) {
    requests++;
    if (FlowSignals.error(flow)) {
      errors++;
    }
    int status = FlowSignals.httpStatus(flow);
    if (status >= 400 && status <= 499) {
      errors4xx++;
    } else if (status >= 500 && status <= 599) {
      errors5xx++;
    }
    if (FlowSignals.denied(flow)) {
      denied++;
      deniedBy.merge(FlowSignals.denyingPolicy(flow), 1L, Long::sum);
    } else if (FlowSignals.rateLimited(flow)) {
      rateLimited++;
    }
    for (String flag : flow.getResponseFlags()) {
      responseFlags.merge(flag, 1L, Long::sum);
    }
    bytesIn += Math.max(0, flow.getBytesIn());
    bytesOut += Math.max(0, flow.getBytesOut());
    if (FlowSignals.tcp(flow)) {
      // A TCP flow record is reported once per connection, when it closes.
      tcpOpened++;
      tcpClosed++;
    }
    if (flow.getMtls()) {
      mtls++;
    }
    latency.record(flow.getLatencyMicros());
    return this;
  }

  /** Adds everything {@code other} counted; returns this. */
  public FlowStats merge(FlowStats other) {
    requests += other.requests;
    errors += other.errors;
    errors4xx += other.errors4xx;
    errors5xx += other.errors5xx;
    denied += other.denied;
    rateLimited += other.rateLimited;
    bytesIn += other.bytesIn;
    bytesOut += other.bytesOut;
    tcpOpened += other.tcpOpened;
    tcpClosed += other.tcpClosed;
    mtls += other.mtls;
    other.responseFlags.forEach((k, v) -> responseFlags.merge(k, v, Long::sum));
    other.deniedBy.forEach((k, v) -> deniedBy.merge(k, v, Long::sum));
    latency.merge(other.latency);
    return this;
  }

  public long requests() {
    return requests;
  }

  public long errors() {
    return errors;
  }

  public double errorRatio() {
    return requests == 0 ? 0 : (double) errors / requests;
  }

  public long errors4xx() {
    return errors4xx;
  }

  public long errors5xx() {
    return errors5xx;
  }

  public long denied() {
    return denied;
  }

  public long rateLimited() {
    return rateLimited;
  }

  public long bytesIn() {
    return bytesIn;
  }

  public long bytesOut() {
    return bytesOut;
  }

  public long tcpOpened() {
    return tcpOpened;
  }

  public long tcpClosed() {
    return tcpClosed;
  }

  /** Flows over mTLS. */
  public long mtls() {
    return mtls;
  }

  /** mTLS flows / flows (1 when there are none: nothing went in plaintext). */
  public double mtlsShare() {
    return requests == 0 ? 1 : (double) mtls / requests;
  }

  /** Flows per response flag (a copy). */
  public Map<String, Long> responseFlags() {
    return new TreeMap<>(responseFlags);
  }

  /** Denials per deciding policy (a copy). */
  public Map<String, Long> deniedBy() {
    return new TreeMap<>(deniedBy);
  }

  /** The latency sketch (live view: do not mutate). */
  public LatencyHistogram latency() {
    return latency;
  }

  /** Binary form for the window stores (versioned, sparse histogram). */
  public byte[] toBytes() {
    int size = 1 + 11 * 10 + latency.encodedSizeBound() + mapSize(responseFlags) + mapSize(deniedBy);
    ByteBuffer out = ByteBuffer.allocate(size);
    out.put(FORMAT_VERSION);
    for (long v : new long[] {requests, errors, errors4xx, errors5xx, denied, rateLimited, bytesIn, bytesOut,
        tcpOpened, tcpClosed, mtls}) {
      Varints.writeLong(out, v);
    }
    writeMap(out, responseFlags);
    writeMap(out, deniedBy);
    latency.writeTo(out);
    byte[] bytes = new byte[out.position()];
    out.flip().get(bytes);
    return bytes;
  }

  /**
   * Reads {@link #toBytes()}.
   *
   * @throws IllegalArgumentException on an unknown format version or corrupt bytes
   */
  public static FlowStats fromBytes(byte[] bytes) {
    Objects.requireNonNull(bytes, "bytes");
    ByteBuffer in = ByteBuffer.wrap(bytes);
    try {
      byte version = in.get();
      if (version != FORMAT_VERSION) {
        throw new IllegalArgumentException("flow stats format " + version + " (expected: " + FORMAT_VERSION + ")");
      }
      FlowStats s = new FlowStats();
      s.requests = Varints.readLong(in);
      s.errors = Varints.readLong(in);
      s.errors4xx = Varints.readLong(in);
      s.errors5xx = Varints.readLong(in);
      s.denied = Varints.readLong(in);
      s.rateLimited = Varints.readLong(in);
      s.bytesIn = Varints.readLong(in);
      s.bytesOut = Varints.readLong(in);
      s.tcpOpened = Varints.readLong(in);
      s.tcpClosed = Varints.readLong(in);
      s.mtls = Varints.readLong(in);
      readMap(in, s.responseFlags);
      readMap(in, s.deniedBy);
      s.latency = LatencyHistogram.readFrom(in);
      return s;
    } catch (java.nio.BufferUnderflowException e) {
      throw new IllegalArgumentException("flow stats: truncated (" + bytes.length + " bytes)", e);
    }
  }

  private static int mapSize(Map<String, Long> map) {
    int size = 10;
    for (String k : map.keySet()) {
      size += 20 + 3 * k.length();
    }
    return size;
  }

  private static void writeMap(ByteBuffer out, Map<String, Long> map) {
    Varints.writeLong(out, map.size());
    map.forEach((k, v) -> {
      byte[] key = k.getBytes(StandardCharsets.UTF_8);
      Varints.writeLong(out, key.length);
      out.put(key);
      Varints.writeLong(out, v);
    });
  }

  private static void readMap(ByteBuffer in, Map<String, Long> into) {
    long n = Varints.readLong(in);
    for (long i = 0; i < n; i++) {
      long len = Varints.readLong(in);
      if (len > in.remaining()) {
        throw new IllegalArgumentException("flow stats: map key of " + len + " bytes, " + in.remaining() + " left");
      }
      byte[] key = new byte[(int) len];
      in.get(key);
      into.put(new String(key, StandardCharsets.UTF_8), Varints.readLong(in));
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FlowStats s && requests == s.requests && errors == s.errors && errors4xx == s.errors4xx
        && errors5xx == s.errors5xx && denied == s.denied && rateLimited == s.rateLimited
        && bytesIn == s.bytesIn && bytesOut == s.bytesOut && tcpOpened == s.tcpOpened
        && tcpClosed == s.tcpClosed && mtls == s.mtls && responseFlags.equals(s.responseFlags)
        && deniedBy.equals(s.deniedBy) && latency.equals(s.latency);
  }

  @Override
  public int hashCode() {
    return Objects.hash(requests, errors, bytesIn, bytesOut);
  }

  @Override
  public String toString() {
    return "FlowStats[requests=" + requests + ", errors=" + errors + ", 4xx=" + errors4xx + ", 5xx=" + errors5xx
        + ", denied=" + denied + ", rateLimited=" + rateLimited + ", flags=" + responseFlags + ", deniedBy="
        + deniedBy + ", tcp=" + tcpOpened + "/" + tcpClosed + ", mtls=" + mtls + ", " + latency + "]";
  }
}
