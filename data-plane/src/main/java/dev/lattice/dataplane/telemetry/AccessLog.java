package dev.lattice.dataplane.telemetry;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One JSON access-log line per request (Envoy's JSON access-log fields, snake case), written off the
 * event loop: {@link #accept} only enqueues into a bounded queue; a writer thread formats and writes the
 * line (to standard output, or to the {@code dev.lattice.dataplane.access} logger at INFO). A full queue drops the
 * line and counts it ({@link #dropped()}), so a slow terminal never slows traffic. The query string is
 * never logged (it may carry secrets). On by default; the hot-path benchmark turns it off.
 *
 * <p>Thread-safe. The creator closes it ({@link #close()} drains for at most a second).
 */
public final class AccessLog implements FlowSink, AutoCloseable {
  private static final Logger ACCESS = LoggerFactory.getLogger("dev.lattice.dataplane.access");
  private static final JsonFactory JSON = new JsonFactory();

  private final ArrayBlockingQueue<FlowObservation> queue;
  private final Consumer<String> out;
  private final LongAdder written = new LongAdder();
  private final LongAdder dropped = new LongAdder();
  private final Thread writer;
  private final AutoCloseable resource;
  private volatile boolean closed;

  /** Lines to the {@code dev.lattice.dataplane.access} logger (in the service's log format), at most 8192 waiting. */
  public static AccessLog toLogger() {
    return new AccessLog(8192, ACCESS::info);
  }

  /** Bare JSON lines on standard output (one object per line, what log shippers want), at most 8192 waiting. */
  public static AccessLog toStdout() {
    return new AccessLog(8192, System.out::println);
  }

  /**
   * Lines appended to {@code file} (created with its directories if missing), each flushed as written,
   * at most 8192 waiting; {@link #close} closes the file. A failed write drops that line (counted).
   */
  public static AccessLog toFile(java.nio.file.Path file) throws IOException {
    java.nio.file.Path dir = file.toAbsolutePath().getParent();
    if (dir != null) {
      java.nio.file.Files.createDirectories(dir);
    }
    java.io.BufferedWriter w = java.nio.file.Files.newBufferedWriter(file, java.nio.charset.StandardCharsets.UTF_8,
        java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
    return new AccessLog(8192, line -> {
      try {
        w.write(line);
        w.newLine();
        w.flush();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }, w);
  }

  /**
   * @param capacity lines that may wait for the writer
   * @param out receives each formatted line on the writer thread
   */
  public AccessLog(int capacity, Consumer<String> out) {
    this(capacity, out, null);
  }

  private AccessLog(int capacity, Consumer<String> out, AutoCloseable resource) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity: " + capacity + " (expected: >= 1)");
    }
    this.queue = new ArrayBlockingQueue<>(capacity);
    this.out = Objects.requireNonNull(out, "out");
    this.resource = resource;
    this.writer = new Thread(this::run, "lattice-access-log");
    writer.setDaemon(true);
    writer.start();
  }

  @Override
  public void accept(FlowObservation o) {
    if (closed || !queue.offer(o)) {
      dropped.increment();
    }
  }

  /** Lines written. */
  public long written() {
    return written.sum();
  }

  /** Lines dropped because the queue was full or the log closed. */
  public long dropped() {
    return dropped.sum();
  }

  private void run() {
    while (!closed || !queue.isEmpty()) {
      try {
        FlowObservation o = queue.poll(50, TimeUnit.MILLISECONDS);
        if (o != null) {
          out.accept(line(o));
          written.increment();
        }
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        dropped.increment();
      }
    }
  }

  /** The JSON line for {@code o} (no trailing newline). */
  public static String line(FlowObservation o) {
    StringWriter w = new StringWriter(512);
    try (JsonGenerator g = JSON.createGenerator(w)) {
      g.writeStartObject();
      g.writeStringField("start_time", Instant.from(o.start).toString());
      field(g, "method", o.method);
      field(g, "path", stripQuery(o.path));
      field(g, "protocol", o.protocol);
      g.writeNumberField("response_code", o.status);
      g.writeStringField("response_flags", ResponseFlag.format(o.responseFlags));
      field(g, "authority", o.authority);
      field(g, "request_id", o.requestId);
      field(g, "route_name", o.route);
      field(g, "upstream_cluster", o.cluster);
      field(g, "upstream_host", o.upstream ? o.destination.ip + ":" + o.destination.port : null);
      g.writeStringField("downstream_remote_address", o.source.ip + ":" + o.source.port);
      g.writeNumberField("bytes_received", o.bytesIn);
      g.writeNumberField("bytes_sent", o.bytesOut);
      g.writeNumberField("duration", o.latencyMicros / 1000);
      if (o.firstByteMicros > 0) {
        g.writeNumberField("upstream_service_time", o.firstByteMicros / 1000);
      }
      g.writeStringField("direction", o.direction.name().toLowerCase(java.util.Locale.ROOT));
      g.writeStringField("connection_security_policy", o.mtls ? "mutual_tls" : "none");
      field(g, "source_principal", o.source.spiffeId);
      field(g, "source_workload", o.source.workload);
      field(g, "destination_workload", o.destination.workload);
      field(g, "destination_service", o.destinationService);
      g.writeStringField("verdict", o.verdict.name());
      field(g, "policy", o.policy);
      field(g, "policy_reason", o.policyReason);
      if (o.dryRunVerdict != null) {
        g.writeStringField("dry_run_verdict", o.dryRunVerdict.name());
        field(g, "dry_run_policy", o.dryRunPolicy);
      }
      if (!o.auditPolicies().isEmpty()) {
        g.writeArrayFieldStart("audit_policies");
        for (String p : o.auditPolicies()) {
          g.writeString(p);
        }
        g.writeEndArray();
      }
      if (o.trace != null) {
        g.writeStringField("trace_id", o.trace.traceId());
        g.writeStringField("span_id", o.trace.spanId());
      }
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return w.toString();
  }

  private static void field(JsonGenerator g, String name, String value) throws IOException {
    if (value != null) {
      g.writeStringField(name, value);
    }
  }

  private static String stripQuery(String path) {
    if (path == null) {
      return null;
    }
    int q = path.indexOf('?');
    return q < 0 ? path : path.substring(0, q);
  }

  /** Stops accepting and gives the writer up to a second to write what is queued. */
  @Override
  public void close() {
    closed = true;
    try {
      writer.join(1_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    dropped.add(queue.size());
    queue.clear();
    if (resource != null) {
      try {
        resource.close();
      } catch (Exception e) {
        LoggerFactory.getLogger(AccessLog.class).warn("access log: closing its file failed: {}", e.toString());
      }
    }
  }
}
