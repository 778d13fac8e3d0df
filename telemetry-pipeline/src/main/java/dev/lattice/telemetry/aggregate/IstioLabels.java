package dev.lattice.telemetry.aggregate;

import dev.lattice.events.FlowRecord;
import dev.lattice.events.L7Flow;
import dev.lattice.telemetry.flow.FlowSignals;
import java.util.List;
import java.util.Locale;

/**
 * The part of Istio's standard label set a flow record determines beyond source, destination and reporter:
 * {@code request_protocol}, {@code response_code}, {@code response_flags} and whether the hop was mTLS
 * ({@code connection_security_policy}). Text form {@code <protocol>;<code>;<flags>;<mtls>}, e.g.
 * {@code http;503;UF;true}; flags are Envoy's ({@code -} when none, else codes joined by {@code ,}).
 *
 * @param protocol {@code http}, {@code grpc} or {@code tcp}
 * @param responseCode the exact HTTP status; 0 for TCP or when there was no response
 * @param responseFlags Envoy's {@code %RESPONSE_FLAGS%} text
 * @param mtls whether the hop was mutually authenticated
 */
public record IstioLabels(String protocol, int responseCode, String responseFlags, boolean mtls) {

  public IstioLabels {
    if (!List.of("http", "grpc", "tcp").contains(protocol)) {
      throw new IllegalArgumentException("protocol: '" + protocol + "' (expected: http, grpc or tcp)");
    }
    if (responseFlags == null || responseFlags.isEmpty() || responseFlags.contains(";")
        || responseFlags.contains("|")) {
      throw new IllegalArgumentException("responseFlags: '" + responseFlags + "' (expected: '-' or codes joined by ',')");
    }
  }

  /** The labels of a flow. */
  public static IstioLabels of(FlowRecord flow) {
    L7Flow l7 = flow.getL7();
    String protocol = l7 == null ? "tcp"
        : l7.getGrpcStatus() != null || (l7.getProtocol() != null
            && l7.getProtocol().toLowerCase(Locale.ROOT).contains("grpc")) ? "grpc" : "http";
    List<String> flags = flow.getResponseFlags();
    return new IstioLabels(protocol, FlowSignals.httpStatus(flow), flags.isEmpty() ? "-" : String.join(",", flags),
        flow.getMtls());
  }

  /** {@code <protocol>;<code>;<flags>;<mtls>}. */
  public String text() {
    return protocol + ";" + responseCode + ";" + responseFlags + ";" + mtls;
  }

  /**
   * Parses {@link #text()}.
   *
   * @throws IllegalArgumentException when it is not four {@code ;}-separated parts of the right kinds
   */
  public static IstioLabels parse(String text) {
    String[] parts = text == null ? new String[0] : text.split(";", -1);
    if (parts.length != 4 || !(parts[3].equals("true") || parts[3].equals("false"))) {
      throw new IllegalArgumentException("istio labels: '" + text + "' (expected: protocol;code;flags;true|false)");
    }
    try {
      return new IstioLabels(parts[0], Integer.parseInt(parts[1]), parts[2], Boolean.parseBoolean(parts[3]));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("istio labels: '" + text + "' (response code '" + parts[1]
          + "' is not a number)");
    }
  }
}
