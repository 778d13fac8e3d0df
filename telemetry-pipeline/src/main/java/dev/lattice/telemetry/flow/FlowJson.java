package dev.lattice.telemetry.flow;

import dev.lattice.events.FlowEndpoint;
import dev.lattice.events.FlowRecord;
import dev.lattice.events.L7Flow;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * A {@link FlowRecord} as the JSON the live flow API and the CLI show (Hubble's flow fields; times ISO
 * 8601, latencies in ms), plus the graph node names of both ends. Stateless.
 */
public final class FlowJson {

  private FlowJson() {}

  public static JsonObject toJson(FlowRecord f) {
    JsonObject out = new JsonObject()
        .put("time", f.getTime().toString())
        .put("node", f.getNode())
        .put("direction", f.getDirection().name())
        .put("verdict", f.getVerdict().name())
        .put("sourceNode", FlowSignals.source(f))
        .put("destinationNode", FlowSignals.destination(f))
        .put("source", endpoint(f.getSource()))
        .put("destination", endpoint(f.getDestination()))
        .put("l4", f.getL4Protocol().name())
        .put("latencyMs", f.getLatencyMicros() / 1000.0)
        .put("bytesIn", f.getBytesIn())
        .put("bytesOut", f.getBytesOut())
        .put("mtls", f.getMtls())
        .put("retries", f.getRetries())
        .put("denied", FlowSignals.denied(f))
        .put("responseFlags", new JsonArray(f.getResponseFlags()));
    putIfSet(out, "dropReason", f.getDropReason());
    putIfSet(out, "policy", f.getPolicy());
    putIfSet(out, "policyReason", f.getPolicyReason());
    putIfSet(out, "traceId", f.getTraceId());
    putIfSet(out, "spanId", f.getSpanId());
    putIfSet(out, "requestId", f.getRequestId());
    if (f.getDryRunVerdict() != null) {
      out.put("dryRunVerdict", f.getDryRunVerdict().name());
      putIfSet(out, "dryRunPolicy", f.getDryRunPolicy());
      putIfSet(out, "dryRunReason", f.getDryRunReason());
    }
    if (!f.getAuditPolicies().isEmpty()) {
      out.put("auditPolicies", new JsonArray(f.getAuditPolicies()));
    }
    L7Flow l7 = f.getL7();
    if (l7 != null) {
      JsonObject http = new JsonObject();
      putIfSet(http, "method", l7.getHttpMethod());
      putIfSet(http, "path", l7.getPath());
      putIfSet(http, "host", l7.getHost());
      putIfSet(http, "protocol", l7.getProtocol());
      putIfSet(http, "route", l7.getRoute());
      if (l7.getHttpStatus() != null) {
        http.put("status", l7.getHttpStatus());
      }
      if (l7.getGrpcStatus() != null) {
        http.put("grpcStatus", l7.getGrpcStatus());
      }
      out.put("l7", http);
    }
    return out;
  }

  private static JsonObject endpoint(FlowEndpoint e) {
    JsonObject out = new JsonObject().put("ip", e.getIp()).put("port", e.getPort());
    putIfSet(out, "namespace", e.getNamespace());
    putIfSet(out, "workload", e.getWorkload());
    putIfSet(out, "spiffeId", e.getSpiffeId());
    return out;
  }

  private static void putIfSet(JsonObject o, String key, String value) {
    if (value != null) {
      o.put(key, value);
    }
  }
}
