package dev.lattice.dataplane.filter;

import dev.lattice.authz.PeerIdentity;
import dev.lattice.events.config.ListenerConfig;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import java.net.InetSocketAddress;

/**
 * One HTTP request as filters see it: the request head (headers mutable until it is forwarded), the
 * connection it came on, typed per-request state, and headers to add to the response. Used on the
 * connection's event loop only; not thread-safe. A filter that completes its stage on another thread
 * is resumed on the event loop by the proxy.
 */
public interface HttpExchange {

  /** The request head as received (after the proxy's own validation); mutable until forwarded. */
  HttpRequest request();

  /** The normalized path without query, as authorization and routing see it. */
  String path();

  /** The downstream peer's address. */
  InetSocketAddress sourceAddress();

  /** The local address the request arrived on. */
  InetSocketAddress destinationAddress();

  /** The mTLS peer, or null for plaintext. */
  PeerIdentity peer();

  /** The listener the request arrived on. */
  ListenerConfig listener();

  /** Headers added to the response sent downstream (debug headers, rate-limit headers). */
  HttpHeaders responseHeaders();

  /** Whether the snapshot's debug setting is on (filters may then reveal decisions in response headers). */
  boolean debugHeaders();

  /** This request's id ({@code x-request-id}). */
  String requestId();

  /**
   * The name of the route this request will take ({@code RouteRule.name}), or null when no route matches
   * (the request will get 404 NR). Matched on the first call and cached: routing uses the same match, so
   * a filter that changes headers routing looks at must do so before anyone asks.
   */
  String routeName();

  /**
   * The connection's event loop as a scheduler, for filters that wait (fault delays): a task run here
   * is on the exchange's thread. Never block in it.
   */
  java.util.concurrent.ScheduledExecutorService scheduler();

  /**
   * Adds an Envoy-style response flag ({@code DI}, {@code RL}, …) to the exchange's record even when the
   * request goes on upstream; a {@link LocalResponse} carries its own flag instead.
   */
  void addResponseFlag(String flag);

  <T> T get(StateKey<T> key);

  <T> void put(StateKey<T> key, T value);
}
