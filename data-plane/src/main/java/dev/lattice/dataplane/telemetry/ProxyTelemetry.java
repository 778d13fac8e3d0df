package dev.lattice.dataplane.telemetry;

import dev.lattice.authz.Decision;
import dev.lattice.authz.PeerIdentity;
import dev.lattice.authz.Verdict;
import dev.lattice.dataplane.config.ProxyConfig;
import dev.lattice.dataplane.filter.ExchangeKeys;
import dev.lattice.dataplane.filter.trace.TraceFilter;
import dev.lattice.dataplane.proxy.CompletedExchange;
import dev.lattice.dataplane.proxy.ExchangeListener;
import dev.lattice.events.FlowDirection;
import dev.lattice.events.FlowVerdict;
import dev.lattice.events.config.TrafficDirection;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The proxy's per-request telemetry: turns each {@link CompletedExchange} into one {@link FlowObservation}
 * (source and destination workloads from the snapshot's {@link WorkloadDirectory} and the mTLS peer, the
 * authorization verdict with its deciding policy and reason, AUDIT and dry-run shadows, response flags,
 * trace ids) and hands it to every {@link FlowSink} — the flow exporter, Istio metrics, the access log.
 * The exchange is copied during the callback; nothing here blocks or allocates beyond the observation.
 *
 * <p>Thread-safe (called on every event loop). Does not own its sinks.
 */
public final class ProxyTelemetry implements ExchangeListener {
  private static final Logger LOG = LoggerFactory.getLogger(ProxyTelemetry.class);

  private final Supplier<ProxyConfig> config;
  private final List<FlowSink> sinks;
  private volatile WorkloadDirectory directory = WorkloadDirectory.empty();

  /**
   * @param config the snapshot being served (read per request, so a config swap relabels the next
   *     request); may return null before the proxy has started
   * @param sinks called in order for each finished exchange
   */
  public ProxyTelemetry(Supplier<ProxyConfig> config, List<FlowSink> sinks) {
    this.config = Objects.requireNonNull(config, "config");
    this.sinks = List.copyOf(sinks);
  }

  @Override
  public void onComplete(CompletedExchange ex) {
    FlowObservation o = observe(ex, directory());
    for (FlowSink sink : sinks) {
      try {
        sink.accept(o);
      } catch (RuntimeException e) {
        LOG.warn("flow sink {} failed: {}", sink.getClass().getSimpleName(), e.toString());
      }
    }
  }

  private WorkloadDirectory directory() {
    WorkloadDirectory d = directory;
    ProxyConfig current = config.get();
    if (current != null && d.config() != current) {
      d = WorkloadDirectory.of(current);
      directory = d;
    }
    return d;
  }

  /** The observation of one finished exchange (a copy: valid after the callback). */
  static FlowObservation observe(CompletedExchange ex, WorkloadDirectory directory) {
    FlowObservation o = new FlowObservation();
    o.start = Instant.ofEpochMilli(ex.startEpochMillis());
    o.node = ex.node();
    o.direction = ex.direction() == TrafficDirection.INBOUND ? FlowDirection.INBOUND : FlowDirection.OUTBOUND;
    o.http = !"TCP".equals(ex.protocol()); // a TCP listener's connection (istio_tcp_* meters, no L7 part)
    o.method = ex.method();
    o.path = ex.path();
    o.authority = ex.authority();
    o.protocol = ex.protocol();
    o.route = ex.route();
    o.cluster = ex.cluster();
    o.status = ex.status();
    o.requestId = ex.requestId();
    o.bytesIn = ex.bytesReceived();
    o.bytesOut = ex.bytesSent();
    o.latencyMicros = ex.durationMicros();
    o.firstByteMicros = Math.max(0, ex.durationToFirstUpstreamByteMicros());
    o.retries = ex.retries();
    o.responseFlags = flags(ex.responseFlags());
    o.trace = ex.get(TraceFilter.TRACE_CONTEXT);

    PeerIdentity peer = ex.peer();
    o.mtls = peer != null;
    InetSocketAddress src = ex.sourceAddress();
    if (src != null) {
      o.source.address(src.getAddress().getHostAddress(), src.getPort());
    }
    WorkloadDirectory.Workload caller = directory.address(src);
    if (peer != null) {
      // the certificate is the caller's identity; the directory only adds the workload name if it agrees
      String name = caller != null && peer.spiffeId().equals(caller.spiffeId()) ? caller.name() : peer.serviceAccount();
      o.source.workload(peer.namespace(), name, peer.spiffeId());
      o.sourceVersion = caller != null && peer.spiffeId().equals(caller.spiffeId()) ? caller.version() : null;
    } else if (caller != null) {
      o.source.workload(caller.namespace(), caller.name(), caller.spiffeId());
      o.sourceVersion = caller.version();
    }

    InetSocketAddress upstream = ex.upstreamAddress();
    InetSocketAddress dst = upstream != null ? upstream : ex.destinationAddress();
    o.upstream = upstream != null;
    if (dst != null) {
      o.destination.address(dst.getAddress().getHostAddress(), dst.getPort());
    }
    WorkloadDirectory.Workload target = directory.endpoint(ex.cluster(), upstream);
    if (target != null) {
      o.destination.workload(target.namespace(), target.name(), target.spiffeId());
      o.destinationVersion = target.version();
    }
    o.destinationService = target != null && target.service() != null ? target.service() : directory.service(ex.cluster());
    if (o.destinationService == null) {
      o.destinationService = ex.authority();
    }

    Decision d = ex.get(ExchangeKeys.AUTHZ_DECISION);
    if (d != null) {
      o.policy = d.policyName();
      o.policyReason = d.reason().code();
      if (!d.allowed()) {
        o.verdict = FlowVerdict.DROPPED;
        o.dropReason = d.reason().code();
      }
      if (d.dryRun() != null) {
        o.dryRunVerdict = d.dryRun().verdict() == Verdict.ALLOW ? FlowVerdict.FORWARDED : FlowVerdict.DROPPED;
        o.dryRunPolicy = d.dryRun().policy() == null ? null : d.dryRun().policy().toString();
        o.dryRunReason = d.dryRun().reason().code();
      }
      for (Decision.Match m : d.audits()) {
        o.audited(m.policy().toString());
      }
    }
    if (o.verdict == FlowVerdict.FORWARDED && (ex.status() == 0 || (o.responseFlags & ERROR_FLAGS) != 0)) {
      o.verdict = FlowVerdict.ERROR;
    }
    return o;
  }

  /** Flags meaning the proxy could not deliver the request (Hubble's ERROR verdict). */
  private static final int ERROR_FLAGS = ResponseFlag.UH.bit() | ResponseFlag.UF.bit() | ResponseFlag.UO.bit()
      | ResponseFlag.NR.bit() | ResponseFlag.NC.bit() | ResponseFlag.URX.bit() | ResponseFlag.UC.bit()
      | ResponseFlag.UT.bit() | ResponseFlag.LR.bit() | ResponseFlag.UR.bit() | ResponseFlag.UPE.bit()
      | ResponseFlag.DC.bit() | ResponseFlag.DPE.bit() | ResponseFlag.OM.bit();

  private static volatile boolean unknownFlagLogged;

  private static int flags(String text) {
    if (text == null || text.isEmpty()) {
      return 0;
    }
    try {
      return ResponseFlag.parse(text);
    } catch (IllegalArgumentException e) {
      if (!unknownFlagLogged) {
        unknownFlagLogged = true;
        LOG.warn("proxy reported a response flag telemetry does not know ({}); recorded without it", e.getMessage());
      }
      int mask = 0;
      for (String code : text.split(",")) {
        try {
          mask |= ResponseFlag.ofCode(code.trim()).bit();
        } catch (IllegalArgumentException ignored) {
          // skipped, logged once above
        }
      }
      return mask;
    }
  }
}
