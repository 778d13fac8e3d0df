package dev.lattice.policy.model;

import static dev.lattice.policy.model.FieldPath.field;
import static dev.lattice.policy.model.FieldPath.index;

import java.util.HashMap;
import java.util.Map;

/** Validates a {@link DestinationPolicy}. Stateless. */
final class DestinationPolicyValidator {
  private DestinationPolicyValidator() {}

  static void validate(DestinationPolicy r, Issues is) {
    DestinationPolicy.Spec s = r.spec();
    String ns = r.metadata().namespaceOrDefault();
    is.required("spec.host", s.host(), "the service host the policy applies to, e.g. reviews");
    if (s.host() != null) {
      is.host("spec.host", s.host());
      String canonical = ServiceHost.canonical(s.host(), ns);
      if (is.registryAvailable() && !s.host().contains("*") && !is.context.registry().knowsHost(canonical)) {
        is.warn("spec.host", "host \"" + canonical + "\" is not in the service registry");
      }
    }
    is.exportTo("spec.exportTo", s.exportTo());
    trafficPolicy("spec.trafficPolicy", s.trafficPolicy(), is);
    Map<String, Integer> names = new HashMap<>();
    for (int i = 0; i < s.subsets().size(); i++) {
      String p = index("spec.subsets", i);
      DestinationPolicy.Subset sub = s.subsets().get(i);
      if (sub == null) {
        is.error(p, "empty subset (expected: an object with name and labels)");
        continue;
      }
      is.required(field(p, "name"), sub.name(), "a subset name such as v1");
      is.dnsLabel(field(p, "name"), sub.name(), "a subset name");
      if (sub.name() != null) {
        Integer prev = names.putIfAbsent(sub.name(), i);
        if (prev != null) {
          is.error(field(p, "name"), "duplicate subset \"" + sub.name() + "\" (also spec.subsets[" + prev + "]; expected: unique names)");
        }
      }
      if (sub.labels().isEmpty()) {
        is.warn(field(p, "labels"), "no labels: the subset selects every endpoint of the host");
      }
      is.labels(field(p, "labels"), sub.labels());
      trafficPolicy(field(p, "trafficPolicy"), sub.trafficPolicy(), is);
      if (s.host() != null && is.registryAvailable() && !sub.labels().isEmpty()) {
        String canonical = ServiceHost.canonical(s.host(), ns);
        if (is.context.registry().knowsHost(canonical) && !is.context.registry().anyEndpointMatches(canonical, sub.labels())) {
          is.warn(field(p, "labels"), "no endpoint of " + canonical + " matches " + sub.labels());
        }
      }
    }
  }

  private static void trafficPolicy(String p, DestinationPolicy.TrafficPolicy tp, Issues is) {
    if (tp == null) return;
    DestinationPolicy.LoadBalancerSettings lb = tp.loadBalancer();
    if (lb != null) {
      String lp = field(p, "loadBalancer");
      if ((lb.simple() == null) == (lb.consistentHash() == null)) {
        is.error(lp, "expected exactly one of simple, consistentHash");
      }
      DestinationPolicy.ConsistentHashLb ch = lb.consistentHash();
      if (ch != null) {
        String cp = field(lp, "consistentHash");
        int keys = (ch.httpHeaderName() != null ? 1 : 0) + (ch.httpCookie() != null ? 1 : 0)
            + (Boolean.TRUE.equals(ch.useSourceIp()) ? 1 : 0) + (ch.httpQueryParameterName() != null ? 1 : 0);
        if (keys != 1) {
          is.error(cp, "sets " + keys + " hash keys (expected: exactly one of httpHeaderName, httpCookie, useSourceIp, httpQueryParameterName)");
        }
        if (ch.httpHeaderName() != null) is.headerName(field(cp, "httpHeaderName"), ch.httpHeaderName());
        if (ch.httpCookie() != null) {
          is.required(field(cp, "httpCookie.name"), ch.httpCookie().name(), "a cookie name");
          is.duration(field(cp, "httpCookie.ttl"), ch.httpCookie().ttl());
        }
        is.range(field(cp, "minimumRingSize"), ch.minimumRingSize(), 1, 8_388_608);
      }
    }
    DestinationPolicy.ConnectionPoolSettings cp = tp.connectionPool();
    if (cp != null) {
      String pp = field(p, "connectionPool");
      if (cp.tcp() != null) {
        is.atLeast(field(pp, "tcp.maxConnections"), cp.tcp().maxConnections(), 1);
        is.duration(field(pp, "tcp.connectTimeout"), cp.tcp().connectTimeout());
      }
      if (cp.http() != null) {
        DestinationPolicy.HttpSettings h = cp.http();
        is.atLeast(field(pp, "http.http1MaxPendingRequests"), h.http1MaxPendingRequests(), 1);
        is.atLeast(field(pp, "http.http2MaxRequests"), h.http2MaxRequests(), 1);
        is.atLeast(field(pp, "http.maxRequestsPerConnection"), h.maxRequestsPerConnection(), 0);
        is.atLeast(field(pp, "http.maxRetries"), h.maxRetries(), 0);
        is.duration(field(pp, "http.idleTimeout"), h.idleTimeout());
      }
    }
    DestinationPolicy.RetryBudget rb = tp.retryBudget();
    if (rb != null) {
      String bp = field(p, "retryBudget");
      if (rb.retryRatio() != null && !(rb.retryRatio() >= 0 && rb.retryRatio() <= 1000)) {
        is.error(field(bp, "retryRatio"), rb.retryRatio() + " (expected: 0 to 1000, e.g. 0.2 for 20 % extra load at most)");
      }
      is.atLeast(field(bp, "minRetriesPerSecond"), rb.minRetriesPerSecond(), 0);
      is.duration(field(bp, "ttl"), rb.ttl());
      if (rb.ttl() != null && DurationText.isValid(rb.ttl()) && DurationText.parse(rb.ttl()).toMillis() < 1) {
        is.error(field(bp, "ttl"), rb.ttl() + " (expected: at least 1ms)");
      }
    }
    DestinationPolicy.OutlierDetection od = tp.outlierDetection();
    if (od != null) {
      String op = field(p, "outlierDetection");
      is.atLeast(field(op, "consecutive5xxErrors"), od.consecutive5xxErrors(), 0);
      is.atLeast(field(op, "consecutiveGatewayErrors"), od.consecutiveGatewayErrors(), 0);
      is.atLeast(field(op, "consecutiveLocalOriginFailures"), od.consecutiveLocalOriginFailures(), 0);
      is.duration(field(op, "interval"), od.interval());
      is.duration(field(op, "baseEjectionTime"), od.baseEjectionTime());
      is.range(field(op, "maxEjectionPercent"), od.maxEjectionPercent(), 0, 100);
      is.range(field(op, "minHealthPercent"), od.minHealthPercent(), 0, 100);
    }
  }
}
