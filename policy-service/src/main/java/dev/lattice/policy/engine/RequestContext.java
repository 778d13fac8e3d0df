package dev.lattice.policy.engine;

import dev.lattice.policy.model.IpBlock;
import java.util.Locale;
import java.util.Map;

/**
 * The attributes of one request (or one TCP connection) that authorization looks at. Built once per
 * request by the caller; the constructor does the little normalization needed (query string dropped
 * from {@code path}, source namespace taken from the principal when not given, source IP parsed) so that
 * evaluation itself does not allocate. Immutable and thread-safe.
 *
 * @param sourcePrincipal peer SPIFFE ID ({@code spiffe://td/ns/x/sa/y}, scheme optional); null = no mTLS
 * @param sourceNamespace peer namespace; null = taken from the principal's {@code /ns/<name>/} segment
 * @param sourceIp peer address literal, or null
 * @param destinationHost Host/:authority of the request (HTTP only), or null
 * @param destinationPort port the request was addressed to (0 = unknown)
 * @param method HTTP method; null means a plain TCP connection (L4): HTTP-only rule fields then apply
 *     Istio's TCP semantics
 * @param path request path (a query string is dropped), or null for TCP
 * @param headers request headers with lower-case names (single value each); never null
 * @param sourceAddress {@code sourceIp} parsed (4 or 16 bytes); pass null to have it parsed, and do not
 *     modify it afterwards
 */
public record RequestContext(
    String sourcePrincipal,
    String sourceNamespace,
    String sourceIp,
    String destinationHost,
    int destinationPort,
    String method,
    String path,
    Map<String, String> headers,
    byte[] sourceAddress) {

  public RequestContext {
    if (sourceNamespace == null && sourcePrincipal != null) sourceNamespace = namespaceOf(sourcePrincipal);
    if (path != null) {
      int q = path.indexOf('?');
      if (q >= 0) path = path.substring(0, q);
    }
    headers = headers == null ? Map.of() : headers;
    if (sourceAddress == null && sourceIp != null) sourceAddress = IpBlock.literal(sourceIp);
  }

  /** Whether this is a plain TCP connection rather than an HTTP request. */
  public boolean tcp() {
    return method == null;
  }

  /** A header value by lower-case name, or null. */
  public String header(String lowerCaseName) {
    return headers.get(lowerCaseName);
  }

  /** Starts a builder. */
  public static Builder builder() {
    return new Builder();
  }

  private static String namespaceOf(String principal) {
    int i = principal.indexOf("/ns/");
    if (i < 0) return null;
    int start = i + 4;
    int end = principal.indexOf('/', start);
    return end < 0 ? principal.substring(start) : principal.substring(start, end);
  }

  /** Builds a {@link RequestContext}. Not thread-safe. */
  public static final class Builder {
    private String sourcePrincipal;
    private String sourceNamespace;
    private String sourceIp;
    private String destinationHost;
    private int destinationPort;
    private String method;
    private String path;
    private Map<String, String> headers = Map.of();

    private Builder() {}

    public Builder from(String spiffeId) {
      this.sourcePrincipal = spiffeId;
      return this;
    }

    public Builder sourceNamespace(String ns) {
      this.sourceNamespace = ns;
      return this;
    }

    public Builder sourceIp(String ip) {
      this.sourceIp = ip;
      return this;
    }

    public Builder host(String host) {
      this.destinationHost = host;
      return this;
    }

    public Builder port(int port) {
      this.destinationPort = port;
      return this;
    }

    /** HTTP method; leave unset for a TCP connection. */
    public Builder method(String method) {
      this.method = method;
      return this;
    }

    public Builder path(String path) {
      this.path = path;
      return this;
    }

    /** Headers; names are lower-cased. */
    public Builder headers(Map<String, String> headers) {
      java.util.Map<String, String> h = new java.util.HashMap<>();
      headers.forEach((k, v) -> h.put(k.toLowerCase(Locale.ROOT), v));
      this.headers = Map.copyOf(h);
      return this;
    }

    public RequestContext build() {
      return new RequestContext(sourcePrincipal, sourceNamespace, sourceIp, destinationHost, destinationPort,
          method, path, headers, null);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RequestContext r && java.util.Objects.equals(sourcePrincipal, r.sourcePrincipal)
        && java.util.Objects.equals(sourceNamespace, r.sourceNamespace) && java.util.Objects.equals(sourceIp, r.sourceIp)
        && java.util.Objects.equals(destinationHost, r.destinationHost) && destinationPort == r.destinationPort
        && java.util.Objects.equals(method, r.method) && java.util.Objects.equals(path, r.path) && headers.equals(r.headers);
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(sourcePrincipal, sourceNamespace, sourceIp, destinationHost, destinationPort, method, path, headers);
  }

  @Override
  public String toString() {
    return "RequestContext[from=" + sourcePrincipal + ", ns=" + sourceNamespace + ", ip=" + sourceIp + ", host=" + destinationHost
        + ", port=" + destinationPort + ", method=" + method + ", path=" + path + ", headers=" + headers + "]";
  }
}
