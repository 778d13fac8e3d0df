package dev.lattice.dataplane.route;

import dev.lattice.authz.PeerIdentity;
import dev.lattice.events.config.RouteConfig;
import dev.lattice.events.config.RouteRule;
import dev.lattice.events.config.VirtualHost;
import dev.lattice.events.config.WeightedCluster;
import dev.lattice.events.policy.HttpMatchRequest;
import dev.lattice.events.policy.StringMatch;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * A compiled route table: virtual host by Host/{@code :authority} (exact, then the longest
 * {@code *.suffix}, then {@code *}), then the first route whose match alternatives accept the
 * request (Istio's HTTPMatchRequest: uri with ignoreUriCase, scheme, method, authority, headers,
 * withoutHeaders, queryParams, port, sourceLabels, sourceNamespace). A bad regex fails the compile naming its route. Built once
 * per config snapshot; immutable and thread-safe.
 */
public final class RouteTable {

  /** What the table looks at in a request; header names are lower case. */
  public interface RequestView {
    String authority();

    String path();

    String method();

    String header(String lowerCaseName);

    int port();

    /** The raw query string after {@code ?} (not decoded, as Envoy compares it), or null. */
    default String query() {
      return null;
    }

    /** {@code http} or {@code https} as the proxy received it. */
    default String scheme() {
      return "http";
    }

    /** The caller's address (for {@code sourceLabels}, and {@code sourceNamespace} without an mTLS peer), or null. */
    default java.net.InetSocketAddress sourceAddress() {
      return null;
    }

    /** The caller's verified mTLS identity (for {@code sourceNamespace}), or null on a plaintext connection. */
    default PeerIdentity peer() {
      return null;
    }
  }

  private final Map<String, List<CompiledRoute>> exactHosts;
  private final List<Map.Entry<String, List<CompiledRoute>>> suffixHosts;
  private final List<CompiledRoute> anyHost;

  private RouteTable(Map<String, List<CompiledRoute>> exactHosts, List<Map.Entry<String, List<CompiledRoute>>> suffixHosts,
      List<CompiledRoute> anyHost) {
    this.exactHosts = exactHosts;
    this.suffixHosts = suffixHosts;
    this.anyHost = anyHost;
  }

  private static final RouteTable EMPTY = new RouteTable(Map.of(), List.of(), List.of());

  /** A table that matches nothing (every request gets 404, flag NR). */
  public static RouteTable empty() {
    return EMPTY;
  }

  /** Compiles {@code config}; {@code clusters} resolves cluster names (the snapshot guarantees they exist). */
  public static RouteTable compile(RouteConfig config, Function<String, UpstreamCluster> clusters) {
    return compile(config, clusters, SourceLabels.none());
  }

  /** As {@link #compile(RouteConfig, Function)}, judging {@code sourceLabels} by the caller's IP in {@code sources}. */
  public static RouteTable compile(RouteConfig config, Function<String, UpstreamCluster> clusters, SourceLabels sources) {
    Map<String, List<CompiledRoute>> exact = new HashMap<>();
    List<Map.Entry<String, List<CompiledRoute>>> suffix = new ArrayList<>();
    List<CompiledRoute> any = null;
    for (VirtualHost vh : config.getVirtualHosts()) {
      List<CompiledRoute> routes = vh.getRoutes().stream().map(r -> CompiledRoute.of(r, clusters, sources)).toList();
      for (String domain : vh.getDomains()) {
        String d = domain.toLowerCase(Locale.ROOT);
        if (d.equals("*")) {
          any = any == null ? routes : any;
        } else if (d.startsWith("*")) {
          suffix.add(Map.entry(d.substring(1), routes));
        } else {
          exact.putIfAbsent(d, routes);
        }
      }
    }
    suffix.sort((a, b) -> Integer.compare(b.getKey().length(), a.getKey().length()));
    return new RouteTable(Map.copyOf(exact), List.copyOf(suffix), any == null ? List.of() : any);
  }

  /**
   * Whether {@code authority} is one of the table's exact domains as written (case-insensitive): {@code CONNECT} is
   * routed only to those ({@code host:port} of a mesh service), never by a wildcard or a domain without the port.
   */
  public boolean exactDomain(String authority) {
    return authority != null && exactHosts.containsKey(authority.toLowerCase(Locale.ROOT));
  }

  /** The matching route, or null (404, response flag NR). */
  public Route match(RequestView request) {
    String authority = request.authority();
    List<CompiledRoute> routes = null;
    if (authority != null) {
      String host = authority.toLowerCase(Locale.ROOT);
      routes = exactHosts.get(host);
      if (routes == null) {
        int colon = host.lastIndexOf(':');
        if (colon > 0 && host.indexOf(']') < colon) {
          host = host.substring(0, colon);
          routes = exactHosts.get(host);
        }
      }
      if (routes == null) {
        for (Map.Entry<String, List<CompiledRoute>> e : suffixHosts) {
          if (host.endsWith(e.getKey())) {
            routes = e.getValue();
            break;
          }
        }
      }
    }
    if (routes == null) {
      routes = anyHost;
    }
    for (CompiledRoute r : routes) {
      Route matched = r.match(request);
      if (matched != null) {
        return matched;
      }
    }
    return null;
  }

  /** A route and its match alternatives, each with the Route (its own action) a match by it yields. */
  private record CompiledRoute(Route route, List<Matcher> alternatives, List<Route> byAlternative) {
    static CompiledRoute of(RouteRule rule, Function<String, UpstreamCluster> clusters, SourceLabels sources) {
      List<UpstreamCluster> cs = new ArrayList<>();
      int[] cumulative = new int[rule.getClusters().size()];
      int sum = 0;
      for (int i = 0; i < cumulative.length; i++) {
        WeightedCluster wc = rule.getClusters().get(i);
        cs.add(clusters.apply(wc.getCluster()));
        sum += wc.getWeight();
        cumulative[i] = sum;
      }
      long timeout = rule.getTimeout() == null ? 0 : rule.getTimeout();
      if (timeout < 0) {
        throw new IllegalArgumentException("route " + rule.getName() + ": timeout " + timeout + " (expected: >= 0 ms, 0 = none)");
      }
      dev.lattice.dataplane.upstream.resilience.RetryPolicy retry;
      try {
        retry = dev.lattice.dataplane.upstream.resilience.RetryPolicy.of(rule.getRetries());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("route " + rule.getName() + ": retries." + e.getMessage(), e);
      }
      List<Matcher> alternatives;
      try {
        alternatives = rule.getMatch().stream().map(m -> Matcher.of(m, sources)).toList();
      } catch (java.util.regex.PatternSyntaxException e) {
        throw new IllegalArgumentException("route " + rule.getName() + ": bad regex " + e.getPattern()
            + " (" + e.getDescription() + ")", e);
      }
      RouteAction action = RouteAction.of(rule, clusters);
      Route route = new Route(rule.getName(), List.copyOf(cs), cumulative, timeout, retry).withAction(action);
      List<Route> byAlternative = rule.getMatch().stream().map(m -> route.withAction(action.forAlternative(m.getUri()))).toList();
      return new CompiledRoute(route, alternatives, byAlternative);
    }

    Route match(RouteTable.RequestView request) {
      if (alternatives.isEmpty()) {
        return route;
      }
      for (int i = 0; i < alternatives.size(); i++) {
        if (alternatives.get(i).matches(request)) {
          return byAlternative.get(i);
        }
      }
      return null;
    }
  }

  private record Matcher(StringTest uri, StringTest scheme, StringTest method, StringTest authority,
                         Map<String, StringTest> headers, Map<String, StringTest> withoutHeaders,
                         Map<String, StringTest> queryParams, Integer port, Map<String, String> sourceLabels,
                         String sourceNamespace, SourceLabels sources) {
    static Matcher of(HttpMatchRequest m, SourceLabels sources) {
      Map<String, StringTest> headers = new HashMap<>();
      m.getHeaders().forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), StringTest.of(v)));
      Map<String, StringTest> without = new HashMap<>();
      m.getWithoutHeaders().forEach((k, v) -> without.put(k.toLowerCase(Locale.ROOT), StringTest.of(v)));
      Map<String, StringTest> query = new HashMap<>();
      m.getQueryParams().forEach((k, v) -> query.put(k, StringTest.of(v)));
      return new Matcher(StringTest.of(m.getUri(), m.getIgnoreUriCase()), StringTest.of(m.getScheme()),
          StringTest.of(m.getMethod()), StringTest.of(m.getAuthority()),
          // a null value means "present, any value", so these maps keep nulls (Map.copyOf would not)
          Collections.unmodifiableMap(headers), Collections.unmodifiableMap(without), Collections.unmodifiableMap(query),
          m.getPort(), Map.copyOf(m.getSourceLabels()), m.getSourceNamespace(), sources);
    }

    boolean matches(RouteTable.RequestView r) {
      if (port != null && port != r.port()) {
        return false;
      }
      if (uri != null && !uri.test(r.path())) {
        return false;
      }
      if (method != null && !method.test(r.method())) {
        return false;
      }
      if (authority != null && !authority.test(r.authority())) {
        return false;
      }
      if (scheme != null && !scheme.test(r.scheme())) {
        return false;
      }
      for (Map.Entry<String, StringTest> h : headers.entrySet()) {
        String v = r.header(h.getKey());
        if (v == null || (h.getValue() != null && !h.getValue().test(v))) {
          return false;
        }
      }
      for (Map.Entry<String, StringTest> h : withoutHeaders.entrySet()) {
        String v = r.header(h.getKey());
        if (v != null && (h.getValue() == null || h.getValue().test(v))) {
          return false;
        }
      }
      if (!queryParams.isEmpty()) {
        String q = r.query();
        for (Map.Entry<String, StringTest> p : queryParams.entrySet()) {
          String v = queryParam(q, p.getKey());
          if (v == null || (p.getValue() != null && !p.getValue().test(v))) {
            return false;
          }
        }
      }
      if (!sourceLabels.isEmpty()) {
        java.net.InetSocketAddress src = r.sourceAddress();
        String ip = src == null || src.getAddress() == null ? null : src.getAddress().getHostAddress();
        if (!sources.matches(ip, sourceLabels)) {
          return false;
        }
      }
      if (sourceNamespace != null && !sourceNamespace.equals(callerNamespace(r))) {
        return false;
      }
      return true;
    }

    /**
     * Istio's {@code sourceNamespace}: a sidecar knows its one workload's namespace; a node proxy judges each
     * caller — by the namespace of its verified mTLS SPIFFE ID, else (a plaintext local caller) by the
     * namespace of the workload the snapshot knows at its IP, as {@code sourceLabels} does.
     */
    private String callerNamespace(RouteTable.RequestView r) {
      PeerIdentity peer = r.peer();
      if (peer != null) {
        return peer.namespace();
      }
      java.net.InetSocketAddress src = r.sourceAddress();
      return src == null || src.getAddress() == null ? null : sources.namespaceOf(src.getAddress().getHostAddress());
    }
  }

  /** The first value of {@code name} in a raw query string ({@code ""} for a bare {@code name}), or null. */
  static String queryParam(String query, String name) {
    if (query == null || query.isEmpty()) {
      return null;
    }
    int n = query.length();
    int i = query.charAt(0) == '?' ? 1 : 0;
    while (i <= n) {
      int amp = query.indexOf('&', i);
      int end = amp < 0 ? n : amp;
      int eq = query.indexOf('=', i);
      int keyEnd = eq < 0 || eq > end ? end : eq;
      if (keyEnd - i == name.length() && query.regionMatches(i, name, 0, name.length())) {
        return keyEnd == end ? "" : query.substring(keyEnd + 1, end);
      }
      if (amp < 0) {
        break;
      }
      i = amp + 1;
    }
    return null;
  }

  /**
   * A StringMatch compiled once; null when the match sets nothing (presence only). A regex keeps its literal head
   * ({@link #literalHead}) so a value without it is refused without building a {@code Matcher}: in a table of many
   * routes most regex conditions fail on their first characters.
   */
  private record StringTest(String exact, String prefix, Pattern regex, String regexHead, boolean ignoreCase) {
    static StringTest of(StringMatch m) {
      return of(m, false);
    }

    /** {@code ignoreCase} (Istio's ignoreUriCase) compares exact and prefix case-insensitively and the regex too. */
    static StringTest of(StringMatch m, boolean ignoreCase) {
      if (m == null || (m.getExact() == null && m.getPrefix() == null && m.getRegex() == null)) {
        return null;
      }
      Pattern regex = m.getRegex() == null ? null
          : Pattern.compile(m.getRegex(), ignoreCase ? Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE : 0);
      return new StringTest(m.getExact(), m.getPrefix(), regex, regex == null || ignoreCase ? "" : literalHead(m.getRegex()), ignoreCase);
    }

    /** Case-insensitive regexes keep no head: their Unicode case folding is the Pattern's to judge. */
    private boolean hasHead(String value) {
      return regexHead.isEmpty() || value.startsWith(regexHead);
    }

    boolean test(String value) {
      if (value == null) {
        return false;
      }
      if (ignoreCase) {
        if (exact != null) {
          return exact.equalsIgnoreCase(value);
        }
        if (prefix != null) {
          return value.regionMatches(true, 0, prefix, 0, prefix.length());
        }
        return hasHead(value) && regex.matcher(value).matches();
      }
      if (exact != null) {
        return exact.equals(value);
      }
      if (prefix != null) {
        return value.startsWith(prefix);
      }
      return hasHead(value) && regex.matcher(value).matches();
    }
  }

  /**
   * The literal characters every full match of {@code regex} starts with ("" when unsure): the leading run of
   * plain characters, after an optional {@code ^}, minus a last character a quantifier makes optional. A regex
   * with {@code |} anywhere (an alternation may sit at the top level) or starting with a group, class, escape or
   * flag has none.
   */
  static String literalHead(String regex) {
    if (regex.indexOf('|') >= 0) {
      return "";
    }
    int i = regex.startsWith("^") ? 1 : 0;
    int start = i;
    while (i < regex.length() && "\\.[](){}*+?^$|".indexOf(regex.charAt(i)) < 0) {
      i++;
    }
    int end = i;
    if (i < regex.length() && "*+?{".indexOf(regex.charAt(i)) >= 0 && end > start) {
      end--; // "ab*", "ab?", "ab{0,2}": the b may be absent (for + it is there, but one char less is still safe)
    }
    return regex.substring(start, end);
  }
}
