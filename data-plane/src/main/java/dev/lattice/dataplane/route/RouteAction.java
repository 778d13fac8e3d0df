package dev.lattice.dataplane.route;

import dev.lattice.events.config.RouteRule;
import dev.lattice.events.config.WeightedCluster;
import dev.lattice.events.policy.Headers;
import dev.lattice.events.policy.HttpDirectResponse;
import dev.lattice.events.policy.HttpRedirect;
import dev.lattice.events.policy.HttpRewrite;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import java.util.List;
import java.util.Set;

/**
 * What a matched route does besides picking a cluster, compiled once per route and match alternative
 * (Envoy's route action): answer with a redirect or a direct response instead of forwarding; otherwise
 * rewrite the path and authority and apply the header operations — the chosen destination's first, then
 * the route's, so the route's {@code set} wins (Envoy's default, {@code most_specific_header_mutations_wins:
 * false}). Immutable and thread-safe.
 *
 * <p>Path rewrite follows Envoy's {@code prefix_rewrite} as Istio generates it: an alternative that
 * matched the uri by prefix has that prefix replaced; one that matched it exactly or by regex has the
 * whole path replaced, the query kept; one without a uri condition matched prefix {@code /}, so
 * {@code rewrite.uri: /v2} turns {@code /foo} into {@code /v2foo}. {@code rewrite.uriRegexRewrite} instead
 * replaces every match of its expression in the path ({@link PathRegexRewrite}).
 */
public final class RouteAction {
  private static final Set<Integer> REDIRECT_CODES = Set.of(301, 302, 303, 307, 308);
  private static final RouteAction FORWARD = new RouteAction(null, null, null, null, null, null, HeaderMutation.none(),
      HeaderMutation.none(), new HeaderMutation[0], new HeaderMutation[0], null);

  /** A redirect or direct response: status, body (maybe empty) and {@code location} (null for a direct response). */
  public record LocalAnswer(int status, String body, String location) {}

  private final String rewriteUri;
  /** Istio's uriRegexRewrite, or null; never with rewriteUri. */
  private final PathRegexRewrite regexRewrite;
  private final String rewriteAuthority;
  /** The uri prefix this alternative matched (replaced by rewriteUri), or null: the whole path is replaced. */
  private final String matchedPrefix;
  private final HttpRedirect redirect;
  private final HttpDirectResponse direct;
  private final HeaderMutation request;
  private final HeaderMutation response;
  private final HeaderMutation[] clusterRequest;
  private final HeaderMutation[] clusterResponse;
  private final MirrorPolicy mirror;

  /**
   * Istio's {@code mirror} + {@code mirrorPercentage} (unset = 100): which requests get a copy follows the
   * golden-ratio sequence of the weighted split (a per-route counter shared by the alternatives), so any
   * window of requests is mirrored at the percentage to within about a point.
   */
  public record MirrorPolicy(UpstreamCluster cluster, double percent, java.util.concurrent.atomic.AtomicLong counter) {
    /** Whether this request is mirrored. */
    public boolean roll() {
      if (percent >= 100) {
        return true;
      }
      if (percent <= 0) {
        return false;
      }
      long fraction = counter.getAndIncrement() * 0x9E3779B97F4A7C15L;
      double u = (fraction >>> 11) * 0x1.0p-53 * 100; // frac(k·φ) in [0, 100)
      return u < percent;
    }
  }

  private RouteAction(String rewriteUri, PathRegexRewrite regexRewrite, String rewriteAuthority, String matchedPrefix,
      HttpRedirect redirect, HttpDirectResponse direct, HeaderMutation request, HeaderMutation response,
      HeaderMutation[] clusterRequest, HeaderMutation[] clusterResponse, MirrorPolicy mirror) {
    this.rewriteUri = rewriteUri;
    this.regexRewrite = regexRewrite;
    this.rewriteAuthority = rewriteAuthority;
    this.matchedPrefix = matchedPrefix;
    this.redirect = redirect;
    this.direct = direct;
    this.request = request;
    this.response = response;
    this.clusterRequest = clusterRequest;
    this.clusterResponse = clusterResponse;
    this.mirror = mirror;
  }

  /** Forwards unchanged: no rewrite, no header operation. */
  public static RouteAction forward() {
    return FORWARD;
  }

  /** Compiles the action of {@code rule} without a mirror; a bad field fails naming the route. */
  public static RouteAction of(RouteRule rule) {
    return of(rule, name -> null);
  }

  /** Compiles the action of {@code rule}, resolving its mirror cluster with {@code clusters}; a bad field fails naming the route. */
  public static RouteAction of(RouteRule rule, java.util.function.Function<String, UpstreamCluster> resolve) {
    String where = "route " + rule.getName();
    MirrorPolicy mirror = null;
    if (rule.getMirrorCluster() != null) {
      if (rule.getRedirect() != null || rule.getDirectResponse() != null) {
        throw new IllegalArgumentException(where + ": mirrorCluster with " + (rule.getRedirect() != null ? "redirect" : "directResponse")
            + " (expected: mirror only on a forwarding route)");
      }
      UpstreamCluster mc = resolve.apply(rule.getMirrorCluster());
      if (mc == null) {
        throw new IllegalArgumentException(where + ": mirrorCluster " + rule.getMirrorCluster() + " is not among the clusters");
      }
      double pct = rule.getMirrorPercentage() == null ? 100.0 : rule.getMirrorPercentage();
      if (!(pct >= 0 && pct <= 100)) {
        throw new IllegalArgumentException(where + ": mirrorPercentage " + pct + " (expected: 0.0..100.0)");
      }
      mirror = new MirrorPolicy(mc, pct, new java.util.concurrent.atomic.AtomicLong());
    }
    HttpRedirect redirect = rule.getRedirect();
    HttpDirectResponse direct = rule.getDirectResponse();
    if (redirect != null && direct != null) {
      throw new IllegalArgumentException(where + ": both redirect and directResponse (expected: one of clusters, redirect, directResponse)");
    }
    if ((redirect != null || direct != null) && !rule.getClusters().isEmpty()) {
      throw new IllegalArgumentException(where + ": clusters with " + (redirect != null ? "redirect" : "directResponse")
          + " (expected: one of clusters, redirect, directResponse)");
    }
    if (redirect != null) {
      checkRedirect(where + ": redirect", redirect);
    }
    if (direct != null && (direct.getStatus() < 200 || direct.getStatus() > 599)) {
      throw new IllegalArgumentException(where + ": directResponse.status " + direct.getStatus() + " (expected: 200..599)");
    }
    HttpRewrite rw = rule.getRewrite();
    String uri = rw == null ? null : rw.getUri();
    String authority = rw == null ? null : rw.getAuthority();
    if (uri != null && !uri.startsWith("/")) {
      throw new IllegalArgumentException(where + ": rewrite.uri \"" + uri + "\" (expected: a path starting with '/')");
    }
    PathRegexRewrite regex = null;
    if (rw != null && rw.getUriRegexRewrite() != null) {
      if (uri != null) {
        throw new IllegalArgumentException(where + ": rewrite.uriRegexRewrite set with rewrite.uri (expected: one of uri, uriRegexRewrite)");
      }
      regex = PathRegexRewrite.of(rw.getUriRegexRewrite(), where + ": rewrite.uriRegexRewrite");
    }
    if (authority != null) {
      checkAuthority(where + ": rewrite.authority", authority);
    }
    Headers hs = rule.getHeaders();
    HeaderMutation request = HeaderMutation.of(hs == null ? null : hs.getRequest(), where + ": headers.request");
    HeaderMutation response = HeaderMutation.of(hs == null ? null : hs.getResponse(), where + ": headers.response");
    List<WeightedCluster> clusters = rule.getClusters();
    HeaderMutation[] cReq = new HeaderMutation[clusters.size()];
    HeaderMutation[] cResp = new HeaderMutation[clusters.size()];
    boolean any = false;
    for (int i = 0; i < cReq.length; i++) {
      Headers ch = clusters.get(i).getHeaders();
      String cw = where + ": clusters[" + i + "].headers";
      cReq[i] = HeaderMutation.of(ch == null ? null : ch.getRequest(), cw + ".request");
      cResp[i] = HeaderMutation.of(ch == null ? null : ch.getResponse(), cw + ".response");
      any |= !cReq[i].isEmpty() || !cResp[i].isEmpty();
    }
    if (!any) {
      cReq = new HeaderMutation[0];
      cResp = new HeaderMutation[0];
    }
    if (uri == null && regex == null && authority == null && redirect == null && direct == null && request.isEmpty() && response.isEmpty() && !any
        && mirror == null) {
      return FORWARD;
    }
    return new RouteAction(uri, regex, authority, "/", redirect, direct, request, response, cReq, cResp, mirror);
  }

  private static void checkRedirect(String where, HttpRedirect r) {
    if (r.getUri() == null && r.getAuthority() == null && r.getPort() == null && r.getScheme() == null) {
      throw new IllegalArgumentException(where + ": empty (expected: at least one of uri, authority, port, scheme)");
    }
    if (r.getUri() != null && !r.getUri().startsWith("/")) {
      throw new IllegalArgumentException(where + ".uri \"" + r.getUri() + "\" (expected: a path starting with '/')");
    }
    if (r.getUri() != null && (r.getUri().indexOf('\r') >= 0 || r.getUri().indexOf('\n') >= 0 || r.getUri().indexOf(' ') >= 0)) {
      throw new IllegalArgumentException(where + ".uri \"" + r.getUri() + "\" (expected: a path without spaces or line breaks)");
    }
    if (r.getAuthority() != null) {
      checkAuthority(where + ".authority", r.getAuthority());
    }
    if (r.getPort() != null && (r.getPort() < 1 || r.getPort() > 65535)) {
      throw new IllegalArgumentException(where + ".port " + r.getPort() + " (expected: 1..65535)");
    }
    if (r.getScheme() != null && !r.getScheme().equals("http") && !r.getScheme().equals("https")) {
      throw new IllegalArgumentException(where + ".scheme \"" + r.getScheme() + "\" (expected: http or https)");
    }
    if (r.getRedirectCode() != null && !REDIRECT_CODES.contains(r.getRedirectCode())) {
      throw new IllegalArgumentException(where + ".redirectCode " + r.getRedirectCode() + " (expected: 301, 302, 303, 307 or 308)");
    }
  }

  private static void checkAuthority(String where, String a) {
    if (a.isEmpty() || a.chars().anyMatch(c -> c <= ' ' || c >= 127 || c == '/' || c == '?' || c == '#' || c == '@')) {
      throw new IllegalArgumentException(where + " \"" + a + "\" (expected: host[:port], no scheme, path or spaces)");
    }
  }

  /**
   * This action for one match alternative: its uri condition decides what {@code rewrite.uri} replaces —
   * a prefix condition its prefix, an exact or regex one the whole path, none the prefix {@code /}.
   */
  RouteAction forAlternative(dev.lattice.events.policy.StringMatch uri) {
    String p = uri == null || (uri.getExact() == null && uri.getPrefix() == null && uri.getRegex() == null) ? "/"
        : uri.getPrefix();
    if (rewriteUri == null || java.util.Objects.equals(p, matchedPrefix)) {
      return this;
    }
    return new RouteAction(rewriteUri, regexRewrite, rewriteAuthority, p, redirect, direct, request, response, clusterRequest,
        clusterResponse, mirror);
  }

  /** The route's mirror, or null. */
  public MirrorPolicy mirror() {
    return mirror;
  }

  /** True when the route answers itself (redirect or direct response) and picks no cluster. */
  public boolean answersLocally() {
    return redirect != null || direct != null;
  }

  /** The redirect or direct response for {@code r}; only when {@link #answersLocally()}. */
  public LocalAnswer localAnswer(RouteTable.RequestView r, String target) {
    if (direct != null) {
      return new LocalAnswer(direct.getStatus(), direct.getBody() == null ? "" : direct.getBody(), null);
    }
    int code = redirect.getRedirectCode() == null ? 301 : redirect.getRedirectCode();
    return new LocalAnswer(code, "", location(r, target));
  }

  /**
   * Envoy's redirect URL ({@code RouteEntryImplBase::newUri}): scheme, host, port and path each replaced
   * when set. The request's own port survives unless a port or an authority is set, or the scheme
   * changes and it was the old scheme's default. A redirect uri without {@code ?} keeps the query.
   */
  private String location(RouteTable.RequestView r, String target) {
    String scheme = redirect.getScheme() != null ? redirect.getScheme() : r.scheme();
    String port = redirect.getPort() != null ? ":" + redirect.getPort() : "";
    String host;
    if (redirect.getAuthority() != null) {
      host = redirect.getAuthority();
    } else {
      host = r.authority() == null ? "" : r.authority();
      int end = host.startsWith("[") ? host.lastIndexOf("]:") + 1 : host.lastIndexOf(':');
      if (end > 0) {
        String oldPort = host.substring(end);
        if (!port.isEmpty() || (scheme.equals("http") && oldPort.equals(":443")) || (scheme.equals("https") && oldPort.equals(":80"))) {
          host = host.substring(0, end);
        }
      }
    }
    String path;
    if (redirect.getUri() == null) {
      path = target;
    } else if (redirect.getUri().indexOf('?') >= 0) {
      path = redirect.getUri();
    } else {
      int q = target.indexOf('?');
      path = q < 0 ? redirect.getUri() : redirect.getUri() + target.substring(q);
    }
    return scheme + "://" + host + port + path;
  }

  /**
   * Rewrites and header operations on the request about to go to the cluster at {@code clusterIndex} of the route.
   *
   * @throws PathRegexRewrite.BudgetExceeded when a uriRegexRewrite took too many steps on this path (the request
   *     is refused; nothing was changed but headers)
   */
  public void applyRequest(HttpRequest req, int clusterIndex) {
    HttpHeaders h = req.headers();
    if (clusterIndex < clusterRequest.length) {
      clusterRequest[clusterIndex].apply(h);
    }
    request.apply(h);
    if (rewriteAuthority != null) {
      h.set(HttpHeaderNames.HOST, rewriteAuthority);
    }
    if (rewriteUri != null) {
      String uri = req.uri();
      int q = uri.indexOf('?');
      String rest;
      if (matchedPrefix != null && uri.length() >= matchedPrefix.length()) {
        rest = uri.substring(matchedPrefix.length());
      } else {
        rest = q < 0 ? "" : uri.substring(q);
      }
      req.setUri(rewriteUri + rest);
    } else if (regexRewrite != null) {
      String uri = req.uri();
      int q = uri.indexOf('?');
      req.setUri(q < 0 ? regexRewrite.rewrite(uri) : regexRewrite.rewrite(uri.substring(0, q)) + uri.substring(q));
    }
  }

  /** Header operations on the response of the cluster at {@code clusterIndex} (-1: none was picked). */
  public void applyResponse(HttpHeaders h, int clusterIndex) {
    if (clusterIndex >= 0 && clusterIndex < clusterResponse.length) {
      clusterResponse[clusterIndex].apply(h);
    }
    response.apply(h);
  }

  /** True when the response needs {@link #applyResponse}. */
  public boolean changesResponse() {
    return !response.isEmpty() || clusterResponse.length > 0;
  }
}
