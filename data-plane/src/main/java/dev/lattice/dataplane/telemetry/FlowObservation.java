package dev.lattice.dataplane.telemetry;

import dev.lattice.dataplane.filter.trace.TraceContext;
import dev.lattice.events.FlowDirection;
import dev.lattice.events.FlowEndpoint;
import dev.lattice.events.FlowRecord;
import dev.lattice.events.FlowVerdict;
import dev.lattice.events.L4Protocol;
import dev.lattice.events.L7Flow;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * What the proxy saw of one HTTP request or one TCP connection, filled in as the exchange proceeds and
 * turned into a {@link FlowRecord} once at the end. Fields are plain so the hot path only stores values;
 * the Avro record is built off the critical section by {@link #toFlowRecord()}.
 *
 * <p>Not thread-safe: owned by the event loop of the connection it describes.
 */
public final class FlowObservation {

  /** One side of the exchange. */
  public static final class Endpoint {
    public String namespace;
    public String workload;
    public String spiffeId;
    public String ip = "0.0.0.0";
    public int port;

    /** Sets the workload identity. */
    public Endpoint workload(String namespace, String workload, String spiffeId) {
      this.namespace = namespace;
      this.workload = workload;
      this.spiffeId = spiffeId;
      return this;
    }

    /** Sets the address. */
    public Endpoint address(String ip, int port) {
      this.ip = ip;
      this.port = port;
      return this;
    }

    FlowEndpoint toAvro() {
      return FlowEndpoint.newBuilder().setNamespace(namespace).setWorkload(workload).setSpiffeId(spiffeId)
          .setIp(ip == null ? "0.0.0.0" : ip).setPort(port).build();
    }
  }

  public final Endpoint source = new Endpoint();
  public final Endpoint destination = new Endpoint();
  /** Mesh service the request was addressed to ({@code name.namespace}), Istio's destination_service. */
  public String destinationService;
  /** Version label of the source workload (Istio's source_version), or null. */
  public String sourceVersion;
  /** Version label of the destination workload (Istio's destination_version), or null. */
  public String destinationVersion;
  public Instant start = Instant.EPOCH;
  public String node;
  public FlowDirection direction = FlowDirection.INBOUND;
  /** {@code true} for an HTTP request, {@code false} for a TCP connection. */
  public boolean http;
  public String method;
  public String path;
  public String authority;
  /** HTTP/1.1, HTTP/2 or gRPC. */
  public String protocol;
  public String route;
  /** Upstream cluster name, or null. */
  public String cluster;
  /** Whether {@link #destination} is an upstream endpoint the proxy connected to (not its own listener). */
  public boolean upstream;
  /** 0 until a response status is known. */
  public int status;
  /** -1 unless a grpc-status was seen. */
  public int grpcStatus = -1;
  public FlowVerdict verdict = FlowVerdict.FORWARDED;
  public String dropReason;
  public String policy;
  public String policyReason;
  public FlowVerdict dryRunVerdict;
  public String dryRunPolicy;
  public String dryRunReason;
  private List<String> auditPolicies;
  public long latencyMicros;
  public long firstByteMicros;
  public long bytesIn;
  public long bytesOut;
  public boolean mtls;
  /** {@link ResponseFlag} bit mask. */
  public int responseFlags;
  public int retries;
  public TraceContext trace;
  public String requestId;

  /** Adds a response flag. */
  public FlowObservation flag(ResponseFlag flag) {
    responseFlags |= flag.bit();
    return this;
  }

  /** Records an AUDIT policy that matched (never changes the verdict). */
  public FlowObservation audited(String policyName) {
    if (auditPolicies == null) {
      auditPolicies = new ArrayList<>(2);
    }
    auditPolicies.add(policyName);
    return this;
  }

  /** AUDIT policies recorded so far. */
  public List<String> auditPolicies() {
    return auditPolicies == null ? List.of() : List.copyOf(auditPolicies);
  }

  /**
   * The Kafka key of this flow on {@code lattice.flows.v1}: the source workload
   * ({@code namespace/workload}), or {@code unknown/<ip>} for a caller the registry does not know.
   */
  public String key() {
    if (source.workload == null) {
      return "unknown/" + source.ip;
    }
    return (source.namespace == null ? "" : source.namespace) + "/" + source.workload;
  }

  /** The event for {@code lattice.flows.v1}. */
  public FlowRecord toFlowRecord() {
    L7Flow l7 = !http ? null : L7Flow.newBuilder().setHttpMethod(method).setPath(stripQuery(path))
        .setHost(authority).setHttpStatus(status == 0 ? null : status)
        .setGrpcStatus(grpcStatus < 0 ? null : grpcStatus).setProtocol(protocol).setRoute(route).build();
    return FlowRecord.newBuilder()
        .setTime(start)
        .setNode(node)
        .setDirection(direction)
        .setSource(source.toAvro())
        .setDestination(destination.toAvro())
        .setL4Protocol(L4Protocol.TCP)
        .setL7(l7)
        .setVerdict(verdict)
        .setDropReason(dropReason)
        .setPolicy(policy)
        .setPolicyReason(policyReason)
        .setDryRunVerdict(dryRunVerdict)
        .setDryRunPolicy(dryRunPolicy)
        .setDryRunReason(dryRunReason)
        .setAuditPolicies(auditPolicies())
        .setLatencyMicros(latencyMicros)
        .setDurationToFirstByteMicros(firstByteMicros)
        .setBytesIn(bytesIn)
        .setBytesOut(bytesOut)
        .setMtls(mtls)
        .setResponseFlags(ResponseFlag.codes(responseFlags))
        .setRetries(retries)
        .setTraceId(trace == null ? null : trace.traceId())
        .setSpanId(trace == null ? null : trace.spanId())
        .setRequestId(requestId)
        .build();
  }

  private static String stripQuery(String path) {
    if (path == null) {
      return null;
    }
    int q = path.indexOf('?');
    return q < 0 ? path : path.substring(0, q);
  }
}
