package dev.lattice.dataplane.proxy;

import dev.lattice.authz.PeerIdentity;
import dev.lattice.dataplane.filter.StateKey;
import dev.lattice.events.config.TrafficDirection;
import java.net.InetSocketAddress;

/**
 * What the proxy saw of one finished HTTP exchange, handed to {@link ExchangeListener#onComplete}: the
 * fields a flow record, an access-log line and the Istio metrics need. A view over the proxy's own
 * per-request object: valid only during the callback (copy what you keep), read on the connection's
 * event loop.
 */
public interface CompletedExchange {

  /** Wall-clock start (epoch millis, from the proxy's {@link java.time.Clock}). */
  long startEpochMillis();

  /** Microseconds from the request head to the end of the exchange. */
  long durationMicros();

  /** Microseconds from the request head to the first response byte from upstream; -1 if none came. */
  long durationToFirstUpstreamByteMicros();

  /** Node name of this proxy. */
  String node();

  /** The listener the request arrived on. */
  String listenerName();

  /** Version of the config snapshot the request was served with. */
  String configVersion();

  TrafficDirection direction();

  /** The downstream peer. */
  InetSocketAddress sourceAddress();

  /** The local address the request arrived on. */
  InetSocketAddress destinationAddress();

  /** The mTLS peer, or null for plaintext. */
  PeerIdentity peer();

  /** {@code HTTP/1.1}, {@code HTTP/1.0}; {@code TCP} for a TCP listener's connection (then method, path, status are null/0). */
  String protocol();

  /** Method, or null when the request head was unreadable. */
  String method();

  /** Host / :authority as sent, or null. */
  String authority();

  /** The normalized path without query string (as authorization and routing saw it), or the raw target if rejected. */
  String path();

  String requestId();

  /** Matched route name, or null. */
  String route();

  /** Upstream cluster name, or null. */
  String cluster();

  /** Upstream endpoint connected to, or null. */
  InetSocketAddress upstreamAddress();

  /** Response status sent downstream; 0 when none was sent (downstream went away). */
  int status();

  /** Envoy-style response flags joined with {@code ,} ({@code NR}, {@code UH}, {@code UF}, {@code UC}, {@code DC}, {@code RBAC}, …), or empty. */
  String responseFlags();

  /** Request body bytes received from downstream. */
  long bytesReceived();

  /** Response body bytes sent downstream. */
  long bytesSent();

  /** Times the request was re-sent on a fresh upstream connection (a pooled one closed under it). */
  int retries();

  /** Whether the response came from the proxy itself (filter short-circuit, 404, 503, 400). */
  boolean localResponse();

  /** Per-request state a filter published (e.g. the authorization decision), or null. */
  <T> T get(StateKey<T> key);
}
