package dev.lattice.telemetry.generator;

import dev.lattice.events.FlowDirection;
import dev.lattice.events.FlowEndpoint;
import dev.lattice.events.FlowRecord;
import dev.lattice.events.FlowVerdict;
import dev.lattice.events.L4Protocol;
import dev.lattice.events.L7Flow;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Realistic flow records for demos, tests and the benchmark until the data plane streams its own: a small
 * shop mesh (frontend, catalog, cart, checkout, payments, a Redis over raw TCP, an external payment API, an
 * unidentified caller, a legacy batch job that policy denies) with per-edge latency distributions (log-normal),
 * 4xx/5xx rates, response flags (UF, URX, RL, RBAC), rate limiting, plaintext hops and denials naming their
 * deciding policy. Each request is reported as the proxies report it: by the caller's proxy (OUTBOUND) and by
 * the destination's (INBOUND), so the pipeline's de-duplication ({@code FlowSignals.counted}) is exercised.
 * Deterministic for a seed.
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
  private final ArrayDeque<FlowRecord> pending = new ArrayDeque<>(2);

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

  /**
   * The next flow record. Records come in the order their exchanges are generated; an exchange between
   * two proxied workloads yields two consecutive records (see {@link #nextExchange}). {@code start} is the
   * start of a new exchange; a pending second record of the previous exchange is returned first.
   */
  public FlowRecord next(Instant start) {
    if (pending.isEmpty()) {
      pending.addAll(nextExchange(start));
    }
    return pending.removeFirst();
  }

  /**
   * The records of one request or connection, as the proxies report it: OUTBOUND by the caller's proxy
   * (none for the unidentified caller, which has no proxy) and INBOUND by the destination's (none for the
   * external API, and none when the caller's proxy answered itself, e.g. UF). A denial or a rate limit is
   * decided — and flagged, with its policy — by the destination's proxy; the caller's record sees only
   * the status.
   */
  public List<FlowRecord> nextExchange(Instant start) {
    Edge e = pick();
    long latencyMicros = Math.max(1, Math.round(1000 * e.medianMillis * Math.exp(e.sigma * random.nextGaussian())));
    FlowEndpoint source = endpoint(e.srcNs, e.src, "10.0.1." + (10 + random.nextInt(20)), 30000 + random.nextInt(20000));
    FlowEndpoint destination = endpoint(e.dstNs, e.dst, e.dst == null ? "203.0.113.7" : "10.0.2." + (10 + random.nextInt(5)),
        e.port);
    FlowRecord.Builder b = FlowRecord.newBuilder()
        .setTime(start)
        .setNode("node-" + (1 + random.nextInt(3)))
        .setDirection(FlowDirection.OUTBOUND)
        .setSource(source)
        .setDestination(destination)
        .setL4Protocol(L4Protocol.TCP)
        .setMtls(e.mtls)
        .setVerdict(FlowVerdict.FORWARDED)
        .setTraceId(hex(32))
        .setSpanId(hex(16))
        .setRequestId(hex(8) + "-" + hex(4) + "-" + hex(4));
    String inboundNode = "node-" + (1 + random.nextInt(3));
    if (e.tcp) {
      b.setLatencyMicros(latencyMicros).setBytesIn(200 + random.nextInt(20_000))
          .setBytesOut(200 + random.nextInt(200_000));
      return exchange(e, b, b.build(), inboundNode, true);
    }
    int status = 200;
    List<String> flags = new ArrayList<>();
    double roll = random.nextDouble();
    // what the destination's proxy decided (denial, rate limit); the caller's proxy only sees the status
    FlowVerdict inboundVerdict = null;
    String inboundDropReason = null;
    String inboundPolicy = null;
    String inboundPolicyReason = null;
    List<String> inboundFlags = List.of();
    boolean reachesDestination = true;
    if (e.deny) {
      status = 403;
      inboundFlags = List.of("RBAC");
      inboundVerdict = FlowVerdict.DROPPED;
      inboundDropReason = "authorization-denied";
      inboundPolicy = DENYING_POLICY;
      inboundPolicyReason = "no ALLOW policy matched";
    } else if (roll < e.pRateLimited) {
      status = 429;
      inboundFlags = List.of("RL");
      inboundVerdict = FlowVerdict.DROPPED;
      inboundDropReason = "rate-limited";
      inboundPolicy = "RateLimitPolicy/shop/checkout-burst";
      latencyMicros = Math.max(1, latencyMicros / 50);
    } else if (roll < e.pRateLimited + e.p5xx) {
      status = random.nextBoolean() ? 503 : 500;
      if (status == 503) {
        flags.add(random.nextBoolean() ? "UF" : "URX");
        b.setRetries(flags.contains("URX") ? 2 : 0);
        // UF: the caller's proxy could not connect, the destination never saw the request
        reachesDestination = flags.contains("URX");
      }
      b.setVerdict(FlowVerdict.ERROR).setDropReason(status == 503 ? "upstream-failure" : null);
    } else if (roll < e.pRateLimited + e.p5xx + e.p4xx) {
      status = random.nextBoolean() ? 404 : 400;
    }
    String method = random.nextInt(4) == 0 ? "POST" : "GET";
    b.setL7(L7Flow.newBuilder().setHttpMethod(method).setPath(e.path).setHost(e.host)
            .setHttpStatus(status).setProtocol(random.nextInt(3) == 0 ? "HTTP/2" : "HTTP/1.1").setRoute(e.route)
            .build())
        .setResponseFlags(flags)
        .setLatencyMicros(latencyMicros)
        .setDurationToFirstByteMicros(Math.max(1, latencyMicros * 9 / 10))
        .setBytesIn(100 + random.nextInt(2_000))
        .setBytesOut(status >= 400 ? 20 + random.nextInt(100) : 500 + random.nextInt(20_000));
    FlowRecord outbound = b.build();
    if (!reachesDestination) {
      return List.of(outbound);
    }
    FlowRecord.Builder in = FlowRecord.newBuilder(outbound).setResponseFlags(inboundFlags).setRetries(0);
    if (inboundVerdict != null) {
      in.setVerdict(inboundVerdict).setDropReason(inboundDropReason).setPolicy(inboundPolicy)
          .setPolicyReason(inboundPolicyReason);
    } else if (status >= 500) {
      // the application answered 5xx; the destination's proxy forwarded it
      in.setVerdict(FlowVerdict.FORWARDED).setDropReason(null);
    }
    return exchange(e, b, in.build(), inboundNode, false);
  }

  /**
   * The records of an exchange that reached the destination: {@code inboundBase} re-reported by the
   * destination's proxy (a little later and shorter: the hop's network time is the caller's alone).
   */
  private List<FlowRecord> exchange(Edge e, FlowRecord.Builder outbound, FlowRecord inboundBase, String inboundNode,
      boolean tcp) {
    List<FlowRecord> out = new ArrayList<>(2);
    FlowRecord sent = outbound.build();
    if (e.src != null) {
      out.add(sent);
    }
    if (e.dst != null) {
      long hop = Math.min(sent.getLatencyMicros() / 10, 200 + random.nextInt(300));
      FlowRecord.Builder in = FlowRecord.newBuilder(inboundBase)
          .setDirection(FlowDirection.INBOUND)
          .setNode(inboundNode)
          .setTime(sent.getTime().plusNanos(hop * 500))
          .setLatencyMicros(Math.max(1, sent.getLatencyMicros() - hop))
          .setSpanId(hex(16));
      if (!tcp) {
        in.setDurationToFirstByteMicros(Math.max(1, (sent.getLatencyMicros() - hop) * 9 / 10));
      }
      out.add(in.build());
    }
    return out;
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
