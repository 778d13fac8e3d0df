package dev.lattice.telemetry.generator;

import dev.lattice.events.FlowDirection;
import dev.lattice.events.FlowEndpoint;
import dev.lattice.events.FlowRecord;
import dev.lattice.events.FlowVerdict;
import dev.lattice.events.L4Protocol;
import dev.lattice.events.L7Flow;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Realistic flow records for demos, tests and the benchmark until the data plane streams its own: a small
 * shop mesh (frontend, catalog, cart, checkout, payments, a Redis over raw TCP, an external payment API, an
 * unidentified caller, a legacy batch job that policy denies) with per-edge latency distributions (log-normal),
 * 4xx/5xx rates, response flags (UF, URX, RL, RBAC), rate limiting, plaintext hops and denials naming their
 * deciding policy. Deterministic for a seed.
 *
 * <p>Not thread-safe (one {@link Random}).
 */
public final class FlowGenerator {

  /** The policy that denies the legacy batch job's calls to payments. */
  public static final String DENYING_POLICY = "AuthorizationPolicy/shop/payments-allow-checkout";

  private record Edge(String srcNs, String src, String dstNs, String dst, String host, int port, String route,
      String path, boolean tcp, boolean mtls, double weight, double medianMillis, double sigma, double p4xx,
      double p5xx, double pRateLimited, boolean deny) {}

  private static final List<Edge> EDGES = List.of(
      new Edge(null, null, "shop", "frontend", "frontend.shop", 8080, "frontend", "/", false, false, 8, 12, 0.6,
          0.01, 0.002, 0, false),
      new Edge("shop", "frontend", "shop", "catalog", "catalog.shop", 8080, "catalog-list", "/products", false,
          true, 10, 6, 0.5, 0.005, 0.01, 0, false),
      new Edge("shop", "frontend", "shop", "cart", "cart.shop", 8080, "cart", "/cart", false, true, 6, 4, 0.4,
          0.03, 0.005, 0, false),
      new Edge("shop", "frontend", "shop", "checkout", "checkout.shop", 8080, "checkout", "/checkout", false, true,
          3, 40, 0.7, 0.01, 0.02, 0.05, false),
      new Edge("shop", "checkout", "shop", "payments", "payments.shop", 8443, "charge", "/v1/charges", false, true,
          3, 80, 0.8, 0.005, 0.04, 0, false),
      new Edge("shop", "checkout", null, null, "api.payments.example", 443, null, "/v2/authorize", false, false,
          1, 150, 0.5, 0.01, 0.01, 0, false),
      new Edge("shop", "cart", "shop", "redis", null, 6379, null, null, true, true, 4, 300, 1.0, 0, 0, 0, false),
      new Edge("legacy", "batch", "shop", "payments", "payments.shop", 8443, "charge", "/v1/charges", false, true,
          1, 0.4, 0.3, 0, 0, 0, true));

  private final Random random;
  private final double totalWeight;

  /** A generator for {@code seed}. */
  public FlowGenerator(long seed) {
    this.random = new Random(seed);
    this.totalWeight = EDGES.stream().mapToDouble(Edge::weight).sum();
  }

  /** Workload names (namespace/workload) the generator uses as sources, in a fixed order. */
  public static List<String> sourceWorkloads() {
    List<String> out = new ArrayList<>();
    for (Edge e : EDGES) {
      String s = e.src == null ? "unknown" : e.srcNs + "/" + e.src;
      if (!out.contains(s)) {
        out.add(s);
      }
    }
    return out;
  }

  /** The Kafka key of a flow on {@code lattice.flows.v1}: its source workload, {@code unknown/<ip>} if none. */
  public static String key(FlowRecord flow) {
    FlowEndpoint s = flow.getSource();
    return s.getWorkload() == null ? "unknown/" + s.getIp() : s.getNamespace() + "/" + s.getWorkload();
  }

  /** The next flow, starting at {@code start}. */
  public FlowRecord next(Instant start) {
    Edge e = pick();
    long latencyMicros = Math.max(1, Math.round(1000 * e.medianMillis * Math.exp(e.sigma * random.nextGaussian())));
    FlowRecord.Builder b = FlowRecord.newBuilder()
        .setTime(start)
        .setNode("node-" + (1 + random.nextInt(3)))
        .setDirection(FlowDirection.OUTBOUND)
        .setSource(endpoint(e.srcNs, e.src, "10.0.1." + (10 + random.nextInt(20)), 30000 + random.nextInt(20000)))
        .setDestination(endpoint(e.dstNs, e.dst, e.dst == null ? "203.0.113.7" : "10.0.2." + (10 + random.nextInt(5)),
            e.port))
        .setL4Protocol(L4Protocol.TCP)
        .setMtls(e.mtls)
        .setVerdict(FlowVerdict.FORWARDED)
        .setTraceId(hex(32))
        .setSpanId(hex(16))
        .setRequestId(hex(8) + "-" + hex(4) + "-" + hex(4));
    if (e.tcp) {
      return b.setLatencyMicros(latencyMicros).setBytesIn(200 + random.nextInt(20_000))
          .setBytesOut(200 + random.nextInt(200_000)).build();
    }
    int status = 200;
    List<String> flags = new ArrayList<>();
    double roll = random.nextDouble();
    if (e.deny) {
      status = 403;
      flags.add("RBAC");
      b.setVerdict(FlowVerdict.DROPPED).setDropReason("authorization-denied").setPolicy(DENYING_POLICY)
          .setPolicyReason("no ALLOW policy matched");
    } else if (roll < e.pRateLimited) {
      status = 429;
      flags.add("RL");
      b.setVerdict(FlowVerdict.DROPPED).setDropReason("rate-limited")
          .setPolicy("RateLimitPolicy/shop/checkout-burst");
      latencyMicros = Math.max(1, latencyMicros / 50);
    } else if (roll < e.pRateLimited + e.p5xx) {
      status = random.nextBoolean() ? 503 : 500;
      if (status == 503) {
        flags.add(random.nextBoolean() ? "UF" : "URX");
        b.setRetries(flags.contains("URX") ? 2 : 0);
      }
      b.setVerdict(FlowVerdict.ERROR).setDropReason(status == 503 ? "upstream-failure" : null);
    } else if (roll < e.pRateLimited + e.p5xx + e.p4xx) {
      status = random.nextBoolean() ? 404 : 400;
    }
    String method = random.nextInt(4) == 0 ? "POST" : "GET";
    return b.setL7(L7Flow.newBuilder().setHttpMethod(method).setPath(e.path).setHost(e.host)
            .setHttpStatus(status).setProtocol(random.nextInt(3) == 0 ? "HTTP/2" : "HTTP/1.1").setRoute(e.route)
            .build())
        .setResponseFlags(flags)
        .setLatencyMicros(latencyMicros)
        .setDurationToFirstByteMicros(Math.max(1, latencyMicros * 9 / 10))
        .setBytesIn(100 + random.nextInt(2_000))
        .setBytesOut(status >= 400 ? 20 + random.nextInt(100) : 500 + random.nextInt(20_000))
        .build();
  }

  private Edge pick() {
    double r = random.nextDouble() * totalWeight;
    for (Edge e : EDGES) {
      r -= e.weight;
      if (r < 0) {
        return e;
      }
    }
    return EDGES.get(EDGES.size() - 1);
  }

  private static FlowEndpoint endpoint(String ns, String workload, String ip, int port) {
    return FlowEndpoint.newBuilder().setNamespace(ns).setWorkload(workload)
        .setSpiffeId(workload == null ? null : "spiffe://lattice.local/ns/" + ns + "/sa/" + workload)
        .setIp(ip).setPort(port).build();
  }

  private String hex(int chars) {
    StringBuilder sb = new StringBuilder(chars);
    for (int i = 0; i < chars; i++) {
      sb.append(Character.forDigit(random.nextInt(16), 16));
    }
    return sb.toString().toLowerCase(Locale.ROOT);
  }
}
