package dev.lattice.cli.telemetry;

import com.fasterxml.jackson.databind.JsonNode;

/** One flow as one line, like {@code hubble observe}: time, source → destination, L7 or TCP, verdict. Stateless. */
final class FlowLine {

  private FlowLine() {}

  /**
   * {@code 2026-12-04T12:00:00.123Z  shop/frontend -> shop/cart  GET /cart 200  FORWARDED  4.1ms  mTLS},
   * with the response flags, the deciding policy of a drop and the reporting side ({@code to}/{@code from}
   * as Hubble: the caller's proxy reports {@code to-}, the destination's {@code from-}).
   */
  static String format(JsonNode f) {
    StringBuilder line = new StringBuilder();
    line.append(f.path("time").asText()).append("  ");
    line.append(f.path("sourceNode").asText()).append(" -> ").append(f.path("destinationNode").asText());
    line.append("  ").append("INBOUND".equals(f.path("direction").asText()) ? "from-proxy" : "to-proxy");
    JsonNode l7 = f.get("l7");
    if (l7 == null) {
      line.append("  tcp");
    } else {
      line.append("  ").append(l7.path("method").asText("-")).append(' ').append(l7.path("path").asText("-"))
          .append(' ').append(l7.has("status") ? l7.get("status").asText() : "-");
    }
    line.append("  ").append(f.path("verdict").asText());
    String policy = f.path("policy").asText("");
    if (f.path("denied").asBoolean() && !policy.isEmpty()) {
      line.append(" by ").append(policy);
    }
    JsonNode flags = f.get("responseFlags");
    if (flags != null && flags.isArray() && !flags.isEmpty()) {
      StringBuilder joined = new StringBuilder();
      flags.forEach(x -> joined.append(joined.length() == 0 ? "" : ",").append(x.asText()));
      line.append(" [").append(joined).append(']');
    }
    line.append("  ").append(String.format(java.util.Locale.ROOT, "%.1fms", f.path("latencyMs").asDouble()));
    line.append(f.path("mtls").asBoolean() ? "  mTLS" : "  plaintext");
    return line.toString();
  }
}
