package dev.lattice.policy.compiler;

import dev.lattice.events.ResourceEvent;
import dev.lattice.events.WorkloadHealth;
import dev.lattice.events.config.AuthorizationConfig;
import dev.lattice.events.config.ClusterConfig;
import dev.lattice.events.config.ClusterEndpoint;
import dev.lattice.events.config.CompiledAuthorizationPolicy;
import dev.lattice.events.config.ConfigType;
import dev.lattice.events.config.ListenerConfig;
import dev.lattice.events.config.ListenerProtocol;
import dev.lattice.events.config.PeerAuthenticationConfig;
import dev.lattice.events.config.RateLimitConfig;
import dev.lattice.events.config.RouteConfig;
import dev.lattice.events.config.RouteRule;
import dev.lattice.events.config.TrafficDirection;
import dev.lattice.events.config.VirtualHost;
import dev.lattice.events.config.WeightedCluster;
import dev.lattice.events.policy.AuthorizationPolicySpec;
import dev.lattice.events.policy.RateLimit;
import dev.lattice.events.policy.RateLimitPolicySpec;
import dev.lattice.policy.registry.RegisteredWorkload;
import dev.lattice.policy.registry.RegisteredWorkload.ServicePort;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Compiles the inbound side of one workload instance on its node: the peer-authentication mode
 * ({@code PEER_AUTHENTICATION/inbound|<instance key>}), the authorization table
 * ({@code AUTHORIZATION/inbound|<instance key>}: every AuthorizationPolicy selecting it, DENY/ALLOW/AUDIT
 * with dry-run marked), its local rate limits if any ({@code RATE_LIMIT/inbound|<instance key>}) and one
 * inbound listener per served port ({@code LISTENER/inbound|<port>|<instance key>}) tying them together.
 * Each listener binds the instance's address and target port, as a sidecar's inbound listener takes the
 * pod IP, and forwards to the workload on {@code 127.0.0.1:<targetPort>} through the inbound cluster
 * ({@code CLUSTER/inbound|<port>||<instance key>}, Envoy's naming): HTTP ports through a route table of one
 * catch-all virtual host ({@code ROUTE/inbound|<port>|<instance key>}), TCP ports directly. An instance whose
 * address is loopback-localhost or unspecified gets no inbound listener: the proxy could not take its address
 * without colliding with the workload itself.
 *
 * <p>Stateless; pure functions of {@link MeshState}.
 */
public final class InboundCompiler {

  /** The annotation that makes an AuthorizationPolicy evaluate without enforcing. */
  public static final String DRY_RUN_ANNOTATION = "lattice.dev/dry-run";

  private InboundCompiler() {}

  /** Name of the per-instance inbound resources of {@code workloadKey}. */
  public static String inboundName(String workloadKey) {
    return "inbound|" + workloadKey;
  }

  /** Name of the inbound listener of {@code workloadKey} on {@code port}. */
  public static String listenerName(int port, String workloadKey) {
    return "inbound|" + port + "|" + workloadKey;
  }

  /** Name of the inbound cluster of {@code workloadKey} on {@code port}: the workload on 127.0.0.1. */
  public static String clusterName(int port, String workloadKey) {
    return "inbound|" + port + "||" + workloadKey;
  }

  /**
   * Whether the proxy can take {@code address} for an inbound listener: not unspecified ({@code 0.0.0.0},
   * {@code ::}) and not the host's own loopback ({@code 127.0.0.1}, {@code ::1}, {@code localhost}), where
   * the workload is reached. Other loopback addresses (127.0.0.x, one per local workload) are bindable.
   */
  public static boolean bindable(String address) {
    if (address == null || address.isBlank()) return false;
    String a = address.trim().toLowerCase(java.util.Locale.ROOT);
    return !(a.equals("0.0.0.0") || a.equals("::") || a.equals("[::]") || a.equals("127.0.0.1")
        || a.equals("::1") || a.equals("[::1]") || a.equals("localhost"));
  }

  /** A workload's compiled authorization table and the resources it came from ({@code kind/ns/name}). */
  public record AuthorizationTable(AuthorizationConfig config, List<String> sources) {}

  /**
   * The authorization table of instance {@code w}: every AuthorizationPolicy selecting it (its namespace
   * and the root namespace, selector matching its labels), dry-run when {@code spec.dryRun} or the
   * {@value #DRY_RUN_ANNOTATION} annotation says so; with the mesh's path normalization and trusted-proxy
   * count. The one place policy selection happens: {@code explain} calls it too.
   */
  public static AuthorizationTable authorization(MeshState state, RegisteredWorkload w) {
    List<CompiledAuthorizationPolicy> policies = new ArrayList<>();
    List<String> sources = new ArrayList<>();
    for (ResourceEvent e : state.selecting(MeshState.AUTHORIZATION_POLICY, w)) {
      AuthorizationPolicySpec spec = (AuthorizationPolicySpec) e.getSpec();
      policies.add(CompiledAuthorizationPolicy.newBuilder()
          .setNamespace(e.getNamespace()).setName(e.getName()).setAction(spec.getAction())
          .setRules(spec.getRules()).setDryRun(dryRun(e)).build());
      sources.add(MeshState.key(e));
    }
    String name = inboundName(w.key());
    return new AuthorizationTable(AuthorizationConfig.newBuilder().setName(name).setPolicies(policies)
        .setPathNormalization(state.mesh().pathNormalization().name()).setTrustedProxies(state.mesh().trustedProxies()).build(),
        List.copyOf(sources));
  }

  /** Whether an AuthorizationPolicy event is dry-run: {@code spec.dryRun}, or the annotation set to true. */
  public static boolean dryRun(ResourceEvent e) {
    return e.getSpec() instanceof AuthorizationPolicySpec spec && spec.getDryRun()
        || "true".equalsIgnoreCase(e.getAnnotations().getOrDefault(DRY_RUN_ANNOTATION, ""));
  }

  /** The compiled resources of instance {@code w}, by {@code TYPE/name}, sorted. */
  public static Map<String, CompiledResource> compile(MeshState state, RegisteredWorkload w) {
    Map<String, CompiledResource> out = new TreeMap<>();
    String name = inboundName(w.key());

    PeerAuthenticationResolution pa = PeerAuthenticationResolution.resolve(state, w);
    OutboundCompiler.put(out, ConfigType.PEER_AUTHENTICATION, name, PeerAuthenticationConfig.newBuilder()
        .setName(name).setMode(pa.mode()).setPortModes(pa.portModes()).setSources(pa.sources()).build(),
        pa.sources());

    AuthorizationTable authz = authorization(state, w);
    OutboundCompiler.put(out, ConfigType.AUTHORIZATION, name, authz.config(), authz.sources());

    List<RateLimit> limits = new ArrayList<>();
    List<String> limitSources = new ArrayList<>();
    int status = 429;
    for (ResourceEvent e : state.selecting(MeshState.RATE_LIMIT_POLICY, w)) {
      RateLimitPolicySpec spec = (RateLimitPolicySpec) e.getSpec();
      if (limitSources.isEmpty()) status = spec.getResponseStatus(); // first policy by key decides
      limits.addAll(spec.getLimits());
      limitSources.add(MeshState.key(e));
    }
    boolean rateLimited = !limits.isEmpty();
    if (rateLimited) {
      OutboundCompiler.put(out, ConfigType.RATE_LIMIT, name, RateLimitConfig.newBuilder()
          .setName(name).setLimits(limits).setResponseStatus(status).setSources(limitSources).build(),
          limitSources);
    }

    if (!bindable(w.address())) return out;
    // The listener only names the tables above; their own sources say which resources decided.
    List<String> listenerSources = List.of();
    for (ServicePort p : w.ports()) {
      String listener = listenerName(p.port(), w.key());
      String cluster = clusterName(p.port(), w.key());
      ListenerProtocol protocol = OutboundCompiler.protocolOf(p.protocol());
      OutboundCompiler.put(out, ConfigType.CLUSTER, cluster, ClusterConfig.newBuilder()
          .setName(cluster).setHost(w.key()).setPort(p.port())
          // the endpoint names the instance's SPIFFE ID: the data plane presents that SVID on the inbound listener
          .setEndpoints(List.of(ClusterEndpoint.newBuilder().setAddress("127.0.0.1").setPort(p.targetPort())
              .setSpiffeId(w.spiffeId().isEmpty() ? null : w.spiffeId())
              .setLabels(w.labels()).setHealth(WorkloadHealth.valueOf(w.health())).setWeight(1).build()))
          .setMtls(false).build(), List.of());
      ListenerConfig.Builder lc = ListenerConfig.newBuilder()
          .setName(listener)
          .setAddress(w.address())
          .setPort(p.targetPort())
          .setDirection(TrafficDirection.INBOUND)
          .setProtocol(protocol)
          .setPeerAuthentication(name)
          .setAuthorization(name)
          .setRateLimit(rateLimited ? name : null);
      if (protocol == ListenerProtocol.HTTP || protocol == ListenerProtocol.HTTP2 || protocol == ListenerProtocol.GRPC) {
        OutboundCompiler.put(out, ConfigType.ROUTE, listener, RouteConfig.newBuilder().setName(listener)
            .setVirtualHosts(List.of(VirtualHost.newBuilder().setName("inbound").setDomains(List.of("*"))
                .setRoutes(List.of(RouteRule.newBuilder().setName("default")
                    .setClusters(List.of(new WeightedCluster(cluster, 100, null))).build()))
                .build()))
            .build(), List.of());
        lc.setRouteConfig(listener);
      } else {
        lc.setTcpClusters(List.of(new WeightedCluster(cluster, 100, null)));
      }
      OutboundCompiler.put(out, ConfigType.LISTENER, listener, lc.build(), listenerSources);
    }
    return out;
  }
}
