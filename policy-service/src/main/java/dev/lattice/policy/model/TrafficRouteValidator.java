package dev.lattice.policy.model;

import static dev.lattice.policy.model.FieldPath.field;
import static dev.lattice.policy.model.FieldPath.index;
import static dev.lattice.policy.model.FieldPath.key;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Validates a {@link TrafficRoute}. Stateless. */
final class TrafficRouteValidator {
  private static final Set<String> RETRY_ON = Set.of(
      "5xx", "gateway-error", "connect-failure", "reset", "retriable-status-codes", "refused-stream",
      "retriable-4xx", "retriable-headers", "envoy-ratelimited", "reset-before-request", "http3-post-connect-failure",
      "cancelled", "deadline-exceeded", "internal", "resource-exhausted", "unavailable");
  private static final Set<String> GRPC_STATUS = Set.of(
      "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
      "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
      "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED");

  private TrafficRouteValidator() {}

  static void validate(TrafficRoute r, Issues is) {
    TrafficRoute.Spec s = r.spec();
    String ns = r.metadata().namespaceOrDefault();
    if (s.hosts().isEmpty()) {
      is.error("spec.hosts", "empty (expected: at least one host the routes apply to)");
    }
    for (int i = 0; i < s.hosts().size(); i++) {
      String h = s.hosts().get(i);
      is.host(index("spec.hosts", i), h);
    }
    if (s.http().isEmpty() && s.tcp().isEmpty()) {
      is.error("spec", "no routes (expected: at least one of http, tcp)");
    }
    is.exportTo("spec.exportTo", s.exportTo());
    Map<List<TrafficRoute.HttpMatchRequest>, Integer> seenMatches = new HashMap<>();
    Map<String, Integer> names = new HashMap<>();
    int catchAll = -1;
    for (int i = 0; i < s.http().size(); i++) {
      String p = index("spec.http", i);
      TrafficRoute.HttpRoute h = s.http().get(i);
      if (h == null) {
        is.error(p, "empty route (expected: an object with route)");
        continue;
      }
      if (h.name() != null) {
        Integer prev = names.putIfAbsent(h.name(), i);
        if (prev != null) {
          is.error(field(p, "name"), "duplicate route name \"" + h.name() + "\" (also spec.http[" + prev + "].name; expected: unique names)");
        }
      }
      if (catchAll >= 0) {
        is.warn(p, "unreachable: spec.http[" + catchAll + "] matches every request and comes first (first match wins)");
      }
      httpRoute(p, h, ns, is);
      if (h.match().isEmpty()) {
        if (catchAll < 0) catchAll = i;
      } else {
        Integer prev = seenMatches.putIfAbsent(h.match(), i);
        if (prev != null) {
          is.error(field(p, "match"), "same match as spec.http[" + prev + "].match, so this route is never used "
              + "(expected: distinct matches; the first matching route wins)");
        }
      }
    }
    for (int i = 0; i < s.tcp().size(); i++) {
      String p = index("spec.tcp", i);
      TrafficRoute.TcpRoute t = s.tcp().get(i);
      if (t == null) {
        is.error(p, "empty route (expected: an object with route)");
        continue;
      }
      for (int m = 0; m < t.match().size(); m++) {
        TrafficRoute.L4MatchAttributes a = t.match().get(m);
        String mp = index(field(p, "match"), m);
        if (a == null) {
          is.error(mp, "empty match");
          continue;
        }
        is.port(field(mp, "port"), a.port());
        for (int k = 0; k < a.destinationSubnets().size(); k++) {
          cidr(index(field(mp, "destinationSubnets"), k), a.destinationSubnets().get(k), is);
        }
        is.labels(field(mp, "sourceLabels"), a.sourceLabels());
        is.namespaceRef(field(mp, "sourceNamespace"), a.sourceNamespace());
      }
      List<TrafficRoute.RouteDestination> route = t.route();
      if (route.isEmpty()) is.error(field(p, "route"), "empty (expected: at least one destination)");
      Integer[] weights = new Integer[route.size()];
      for (int d = 0; d < route.size(); d++) {
        TrafficRoute.RouteDestination rd = route.get(d);
        String dp = index(field(p, "route"), d);
        if (rd == null) {
          is.error(dp, "empty destination");
          continue;
        }
        weights[d] = rd.weight();
        destination(field(dp, "destination"), rd.destination(), ns, is);
      }
      weights(field(p, "route"), weights, is);
    }
  }

  private static void httpRoute(String p, TrafficRoute.HttpRoute h, String ns, Issues is) {
    for (int m = 0; m < h.match().size(); m++) {
      match(index(field(p, "match"), m), h.match().get(m), is);
    }
    List<TrafficRoute.HttpRouteDestination> route = h.route();
    boolean answers = h.redirect() != null || h.directResponse() != null;
    if (route.isEmpty() && !answers) {
      is.error(field(p, "route"), "empty (expected: at least one destination, or a redirect or directResponse)");
    }
    answers(p, h, is);
    Integer[] weights = new Integer[route.size()];
    for (int d = 0; d < route.size(); d++) {
      TrafficRoute.HttpRouteDestination rd = route.get(d);
      String dp = index(field(p, "route"), d);
      if (rd == null) {
        is.error(dp, "empty destination");
        continue;
      }
      weights[d] = rd.weight();
      destination(field(dp, "destination"), rd.destination(), ns, is);
      headers(field(dp, "headers"), rd.headers(), is);
    }
    weights(field(p, "route"), weights, is);
    if (h.rewrite() != null) {
      TrafficRoute.RegexRewrite rx = h.rewrite().uriRegexRewrite();
      if (h.rewrite().uri() == null && h.rewrite().authority() == null && rx == null) {
        is.error(field(p, "rewrite"), "empty (expected: uri or uriRegexRewrite, and/or authority)");
      }
      if (h.rewrite().uri() != null && !h.rewrite().uri().startsWith("/")) {
        is.error(field(p, "rewrite.uri"), "\"" + h.rewrite().uri() + "\" (expected: a path starting with '/')");
      }
      if (rx != null) {
        regexRewrite(field(p, "rewrite.uriRegexRewrite"), rx, is);
        if (h.rewrite().uri() != null) {
          is.error(field(p, "rewrite.uriRegexRewrite"), "set with rewrite.uri (expected: one of uri, uriRegexRewrite)");
        }
      }
    }
    is.duration(field(p, "timeout"), h.timeout());
    if (h.retries() != null) {
      String rp = field(p, "retries");
      TrafficRoute.HttpRetry r = h.retries();
      is.required(field(rp, "attempts"), r.attempts(), "the number of retries, 0 or more");
      is.atLeast(field(rp, "attempts"), r.attempts(), 0);
      is.duration(field(rp, "perTryTimeout"), r.perTryTimeout());
      if (r.retryOn() != null) {
        for (String token : r.retryOn().split(",", -1)) {
          String t = token.trim();
          boolean status = t.length() == 3 && t.chars().allMatch(Character::isDigit)
              && Integer.parseInt(t) >= 100 && Integer.parseInt(t) <= 599;
          if (!status && !RETRY_ON.contains(t)) {
            is.error(field(rp, "retryOn"), "\"" + t + "\" (expected: comma-separated conditions among "
                + "5xx, gateway-error, connect-failure, reset, retriable-status-codes, refused-stream, retriable-4xx, or status codes)");
          }
        }
      }
      is.duration(field(rp, "backoffBaseInterval"), r.backoffBaseInterval());
      is.duration(field(rp, "backoffMaxInterval"), r.backoffMaxInterval());
      if (r.backoffBaseInterval() != null && DurationText.isValid(r.backoffBaseInterval())
          && DurationText.parse(r.backoffBaseInterval()).isZero()) {
        is.error(field(rp, "backoffBaseInterval"), r.backoffBaseInterval() + " (expected: more than 0)");
      }
      if (r.backoffBaseInterval() != null && r.backoffMaxInterval() != null && DurationText.isValid(r.backoffBaseInterval())
          && DurationText.isValid(r.backoffMaxInterval())
          && DurationText.parse(r.backoffMaxInterval()).compareTo(DurationText.parse(r.backoffBaseInterval())) < 0) {
        is.error(field(rp, "backoffMaxInterval"), r.backoffMaxInterval() + " is shorter than backoffBaseInterval "
            + r.backoffBaseInterval() + " (expected: at least the base)");
      }
      if (r.perTryTimeout() != null && h.timeout() != null && DurationText.isValid(r.perTryTimeout())
          && DurationText.isValid(h.timeout())
          && DurationText.parse(r.perTryTimeout()).compareTo(DurationText.parse(h.timeout())) > 0) {
        is.warn(field(rp, "perTryTimeout"), r.perTryTimeout() + " is longer than the route timeout " + h.timeout()
            + ", so no retry can happen");
      }
    }
    if (h.fault() != null) {
      String fp = field(p, "fault");
      TrafficRoute.HttpFaultInjection f = h.fault();
      if (f.delay() == null && f.abort() == null) is.error(fp, "empty (expected: delay and/or abort)");
      if (f.delay() != null) {
        is.required(field(fp, "delay.fixedDelay"), f.delay().fixedDelay(), "a duration such as 5s");
        is.duration(field(fp, "delay.fixedDelay"), f.delay().fixedDelay());
        is.percent(field(fp, "delay.percentage"), f.delay().percentage());
      }
      if (f.abort() != null) {
        TrafficRoute.HttpFaultInjection.Abort a = f.abort();
        String ap = field(fp, "abort");
        if ((a.httpStatus() == null) == (a.grpcStatus() == null)) {
          is.error(ap, "expected exactly one of httpStatus, grpcStatus");
        }
        is.range(field(ap, "httpStatus"), a.httpStatus(), 200, 599);
        if (a.grpcStatus() != null && !GRPC_STATUS.contains(a.grpcStatus())) {
          is.error(field(ap, "grpcStatus"), "\"" + a.grpcStatus() + "\" (expected: a gRPC status name such as UNAVAILABLE)");
        }
        is.percent(field(ap, "percentage"), a.percentage());
      }
    }
    if (h.mirror() != null) destination(field(p, "mirror"), h.mirror(), ns, is);
    if (h.mirrorPercentage() != null && h.mirror() == null) {
      is.error(field(p, "mirrorPercentage"), "set without mirror (expected: a mirror destination)");
    }
    is.percent(field(p, "mirrorPercentage"), h.mirrorPercentage());
    if (h.corsPolicy() != null) {
      String cp = field(p, "corsPolicy");
      TrafficRoute.CorsPolicy c = h.corsPolicy();
      for (int i = 0; i < c.allowOrigins().size(); i++) {
        is.stringMatch(index(field(cp, "allowOrigins"), i), c.allowOrigins().get(i), false, true);
      }
      for (int i = 0; i < c.allowMethods().size(); i++) is.method(index(field(cp, "allowMethods"), i), c.allowMethods().get(i));
      is.duration(field(cp, "maxAge"), c.maxAge());
    }
    headers(field(p, "headers"), h.headers(), is);
  }

  /** Istio's {@code RegexRewrite}: an RE2 {@code match} and a {@code rewrite} whose {@code \\N} name groups it has. */
  private static void regexRewrite(String p, TrafficRoute.RegexRewrite rx, Issues is) {
    if (rx.match() == null || rx.match().isEmpty()) {
      is.error(field(p, "match"), "empty (expected: an RE2 regular expression)");
      return;
    }
    if (rx.rewrite() == null) {
      is.error(field(p, "rewrite"), "missing (expected: the replacement, e.g. \"/v2/\\1\")");
      return;
    }
    int before = is.list.size();
    is.regex(field(p, "match"), rx.match());
    if (is.list.size() > before) return;
    int groups = java.util.regex.Pattern.compile(rx.match()).matcher("").groupCount();
    String r = rx.rewrite();
    for (int i = 0; i < r.length(); i++) {
      if (r.charAt(i) != '\\') continue;
      char next = i + 1 < r.length() ? r.charAt(i + 1) : 0;
      if (next >= '0' && next <= '9' && next - '0' > groups) {
        is.error(field(p, "rewrite"), "\"" + r + "\": \\" + next + " names a group the match does not have (expected: \\0..\\" + groups + ")");
        return;
      } else if (!(next >= '0' && next <= '9') && next != '\\') {
        is.error(field(p, "rewrite"), "\"" + r + "\": a backslash not followed by a digit or a backslash (expected: \\0..\\9 or \\\\)");
        return;
      }
      i++;
    }
  }

  /** Istio's rules: a route forwards, redirects or answers directly, exactly one of them. */
  private static void answers(String p, TrafficRoute.HttpRoute h, Issues is) {
    if (h.redirect() != null && h.directResponse() != null) {
      is.error(field(p, "redirect"), "set with directResponse (expected: one of route, redirect, directResponse)");
    }
    String what = h.redirect() != null ? "redirect" : h.directResponse() != null ? "directResponse" : null;
    if (what == null) return;
    if (!h.route().isEmpty()) is.error(field(p, "route"), "set with " + what + " (expected: one of route, redirect, directResponse)");
    if (h.rewrite() != null) is.error(field(p, "rewrite"), "set with " + what + " (expected: rewrite only on a forwarding route)");
    if (h.mirror() != null) is.error(field(p, "mirror"), "set with " + what + " (expected: mirror only on a forwarding route)");
    TrafficRoute.HttpRedirect r = h.redirect();
    if (r != null) {
      String rp = field(p, "redirect");
      if (r.uri() == null && r.authority() == null && r.port() == null && r.scheme() == null) {
        is.error(rp, "empty (expected: at least one of uri, authority, port, scheme)");
      }
      if (r.uri() != null && !r.uri().startsWith("/")) {
        is.error(field(rp, "uri"), "\"" + r.uri() + "\" (expected: a path starting with '/')");
      }
      if (r.authority() != null && (r.authority().isEmpty() || r.authority().chars().anyMatch(c -> c <= ' ' || c == '/' || c >= 127))) {
        is.error(field(rp, "authority"), "\"" + r.authority() + "\" (expected: a host name, no scheme or path)");
      }
      is.port(field(rp, "port"), r.port());
      if (r.scheme() != null && !r.scheme().equals("http") && !r.scheme().equals("https")) {
        is.error(field(rp, "scheme"), "\"" + r.scheme() + "\" (expected: http or https)");
      }
      if (r.redirectCode() != null && !Set.of(301, 302, 303, 307, 308).contains(r.redirectCode())) {
        is.error(field(rp, "redirectCode"), r.redirectCode() + " (expected: 301, 302, 303, 307 or 308)");
      }
    }
    TrafficRoute.HttpDirectResponse d = h.directResponse();
    if (d != null) {
      String dp = field(p, "directResponse");
      is.required(field(dp, "status"), d.status(), "an HTTP status 200..599");
      is.range(field(dp, "status"), d.status(), 200, 599);
      if (d.body() != null && d.body().string() == null) {
        is.error(field(dp, "body"), "empty (expected: body.string; body.bytes is not supported)");
      }
    }
  }

  private static void match(String p, TrafficRoute.HttpMatchRequest m, Issues is) {
    if (m == null) {
      is.error(p, "empty match (expected: an object; omit match to match every request)");
      return;
    }
    is.stringMatch(field(p, "uri"), m.uri(), false, true);
    is.stringMatch(field(p, "scheme"), m.scheme(), false, true);
    is.stringMatch(field(p, "method"), m.method(), false, true);
    is.stringMatch(field(p, "authority"), m.authority(), false, true);
    m.headers().forEach((k, v) -> {
      is.headerName(key(field(p, "headers"), k), k);
      is.stringMatch(key(field(p, "headers"), k), v, true, true);
    });
    m.withoutHeaders().forEach((k, v) -> {
      is.headerName(key(field(p, "withoutHeaders"), k), k);
      is.stringMatch(key(field(p, "withoutHeaders"), k), v, true, true);
    });
    m.queryParams().forEach((k, v) -> is.stringMatch(key(field(p, "queryParams"), k), v, true, false));
    is.port(field(p, "port"), m.port());
    is.labels(field(p, "sourceLabels"), m.sourceLabels());
    is.namespaceRef(field(p, "sourceNamespace"), m.sourceNamespace());
  }

  private static void headers(String p, TrafficRoute.Headers h, Issues is) {
    if (h == null) return;
    for (var entry : new Object[][] {{"request", h.request()}, {"response", h.response()}}) {
      TrafficRoute.HeaderOperations ops = (TrafficRoute.HeaderOperations) entry[1];
      if (ops == null) continue;
      String op = field(p, (String) entry[0]);
      ops.set().keySet().forEach(k -> is.headerName(key(field(op, "set"), k), k));
      ops.add().keySet().forEach(k -> is.headerName(key(field(op, "add"), k), k));
      for (int i = 0; i < ops.remove().size(); i++) is.headerName(index(field(op, "remove"), i), ops.remove().get(i));
    }
  }

  static void weights(String p, Integer[] weights, Issues is) {
    if (weights.length == 0) return;
    int sum = 0;
    boolean anyMissing = false;
    StringBuilder terms = new StringBuilder();
    for (int i = 0; i < weights.length; i++) {
      Integer w = weights[i];
      if (w == null) {
        anyMissing = true;
        if (weights.length > 1) {
          is.error(index(p, i) + ".weight", "missing (expected: a weight 0..100 on every destination when a route has several)");
        }
        continue;
      }
      if (w < 0 || w > 100) {
        is.error(index(p, i) + ".weight", w + " (expected: 0..100)");
        return;
      }
      sum += w;
      terms.append(terms.length() == 0 ? "" : " + ").append(w);
    }
    if (weights.length == 1) {
      if (weights[0] != null && weights[0] != 100) {
        is.error(index(p, 0) + ".weight", weights[0] + " (expected: 100 or unset for a single destination)");
      }
      return;
    }
    if (!anyMissing && sum != 100) {
      is.error(p, "weights sum to " + sum + " (" + terms + ") (expected: 100)");
    }
  }

  static void destination(String p, Destination d, String ns, Issues is) {
    if (d == null) {
      is.error(p, "missing (expected: an object with host)");
      return;
    }
    if (d.host() == null) {
      is.error(field(p, "host"), "missing (expected: a service host such as reviews or reviews.default)");
      return;
    }
    is.host(field(p, "host"), d.host());
    if (d.port() != null) {
      is.required(field(p, "port.number"), d.port().number(), "a port 1..65535");
      is.port(field(p, "port.number"), d.port().number());
    }
    String canonical = ServiceHost.canonical(d.host(), ns);
    if (is.registryAvailable() && !d.host().contains("*") && !is.context.registry().knowsHost(canonical)) {
      is.warn(field(p, "host"), "host \"" + canonical + "\" is not in the service registry; traffic to it will fail until it is");
    }
    if (d.subset() != null) {
      Optional<DestinationPolicy> dp = is.context.resources().destinationPolicyFor(canonical);
      if (dp.isPresent()) {
        List<DestinationPolicy.Subset> subsets = dp.get().spec().subsets();
        Optional<DestinationPolicy.Subset> subset = subsets.stream().filter(s -> s != null && d.subset().equals(s.name())).findFirst();
        if (subset.isEmpty()) {
          is.error(field(p, "subset"), "unknown subset \"" + d.subset() + "\" of host " + canonical + " (expected one of: "
              + String.join(", ", subsets.stream().filter(s -> s != null).map(DestinationPolicy.Subset::name).toList())
              + ", defined by DestinationPolicy " + dp.get().metadata().namespaceOrDefault() + "/" + dp.get().metadata().name() + ")");
        } else if (is.registryAvailable() && !is.context.registry().anyEndpointMatches(canonical, subset.get().labels())) {
          is.warn(field(p, "subset"), "no endpoint of " + canonical + " matches subset \"" + d.subset() + "\" labels " + subset.get().labels());
        }
      } else {
        is.warn(field(p, "subset"), "no DestinationPolicy defines subsets for host " + canonical
            + " yet; subset \"" + d.subset() + "\" gets no traffic until one does");
      }
    }
  }

  private static void cidr(String p, String v, Issues is) {
    try {
      IpBlock.parse(v);
    } catch (IllegalArgumentException e) {
      is.error(p, e.getMessage());
    }
  }

}
