package dev.lattice.dataplane.config;

import dev.lattice.dataplane.tls.TlsEngine;
import java.time.Duration;

/**
 * Proxy-wide settings of a config snapshot (the {@code settings:} block of a config file).
 *
 * @param node            this proxy's node name (flow records, Via)
 * @param debugHeaders    when true, responses carry the authorization decision in
 *                        {@code x-lattice-authz-policy}; off by default (it reveals policy names)
 * @param maxHeaderBytes  largest request header block accepted; more → 431
 * @param maxInitialLineBytes largest request line accepted; more → 414
 * @param headersTimeout  time a client has to send a complete request head (slowloris bound)
 * @param connectTimeout  upstream connect timeout
 * @param maxPendingRequestBytes bound on request bytes buffered while the upstream is not writable
 * @param idleTimeout     a downstream connection with no request in progress is closed after this
 *                        long (Envoy's HTTP connection manager {@code idle_timeout}, 1 h by default)
 * @param tlsEngine       the TLS implementation of listeners that terminate TLS (BoringSSL when available)
 * @param originateMtls   when true, outbound listeners reach the endpoints of {@code mtls} clusters that name their node
 *                        over mTLS at the endpoint's address (sidecar-style capture: that address is the peer proxy's
 *                        inbound mTLS listener). Off by default: in the compiled node model the address is the
 *                        workload's own, reached through its node only once the node-to-node tunnel exists
 * @param httpProxyAddress where the explicit HTTP proxy port binds (127.0.0.1: only local workloads use it)
 * @param httpProxyPort   the explicit HTTP proxy port ({@code HTTP_PROXY}/{@code HTTPS_PROXY}: absolute-form requests
 *                        and {@code CONNECT}, routed over every outbound route table); -1 = none (default), 0 = ephemeral
 */
public record ProxySettings(
    String node,
    boolean debugHeaders,
    int maxHeaderBytes,
    int maxInitialLineBytes,
    Duration headersTimeout,
    Duration connectTimeout,
    int maxPendingRequestBytes,
    Duration idleTimeout,
    TlsEngine tlsEngine,
    boolean originateMtls,
    String httpProxyAddress,
    int httpProxyPort) {

  public ProxySettings {
    if (node == null || node.isBlank()) {
      throw new ConfigFileException("settings.node: empty (expected: the node name)");
    }
    if (maxHeaderBytes < 1024 || maxHeaderBytes > 1 << 20) {
      throw new ConfigFileException("settings.maxHeaderBytes: " + maxHeaderBytes + " (expected: 1024..1048576)");
    }
    if (maxInitialLineBytes < 256 || maxInitialLineBytes > 1 << 20) {
      throw new ConfigFileException("settings.maxInitialLineBytes: " + maxInitialLineBytes + " (expected: 256..1048576)");
    }
    if (headersTimeout.isNegative() || headersTimeout.isZero() || connectTimeout.isNegative() || connectTimeout.isZero()
        || idleTimeout.isNegative() || idleTimeout.isZero()) {
      throw new ConfigFileException("settings: timeouts must be positive (headersTimeout " + headersTimeout + ", connectTimeout "
          + connectTimeout + ", idleTimeout " + idleTimeout + ")");
    }
    if (httpProxyPort < -1 || httpProxyPort > 65535) {
      throw new ConfigFileException("settings.httpProxyPort: " + httpProxyPort + " (expected: -1 = off, 0 = ephemeral, or 1..65535)");
    }
    if (httpProxyAddress == null || httpProxyAddress.isBlank()) {
      throw new ConfigFileException("settings.httpProxyAddress: empty (expected: an address to bind, e.g. 127.0.0.1)");
    }
  }

  /** The settings without the explicit HTTP proxy port (off). */
  public ProxySettings(String node, boolean debugHeaders, int maxHeaderBytes, int maxInitialLineBytes, Duration headersTimeout,
      Duration connectTimeout, int maxPendingRequestBytes, Duration idleTimeout, TlsEngine tlsEngine, boolean originateMtls) {
    this(node, debugHeaders, maxHeaderBytes, maxInitialLineBytes, headersTimeout, connectTimeout, maxPendingRequestBytes, idleTimeout,
        tlsEngine, originateMtls, "127.0.0.1", -1);
  }

  /** Whether the explicit HTTP proxy port is on. */
  public boolean httpProxy() {
    return httpProxyPort >= 0;
  }

  /** Defaults: 16 KiB headers (Envoy allows 60, nginx 8), 10 s to send the head, 5 s connect, 1 h idle. */
  /** The settings without {@code originateMtls} (off), as before it existed. */
  public ProxySettings(String node, boolean debugHeaders, int maxHeaderBytes, int maxInitialLineBytes, Duration headersTimeout,
      Duration connectTimeout, int maxPendingRequestBytes, Duration idleTimeout, TlsEngine tlsEngine) {
    this(node, debugHeaders, maxHeaderBytes, maxInitialLineBytes, headersTimeout, connectTimeout, maxPendingRequestBytes, idleTimeout,
        tlsEngine, false, "127.0.0.1", -1);
  }

  public static ProxySettings defaults(String node) {
    return new ProxySettings(node, false, 16 * 1024, 8 * 1024, Duration.ofSeconds(10), Duration.ofSeconds(5), 1 << 20, Duration.ofHours(1), TlsEngine.AUTO,
        false, "127.0.0.1", -1);
  }
}
