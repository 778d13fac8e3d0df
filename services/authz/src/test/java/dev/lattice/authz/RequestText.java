package dev.lattice.authz;

import dev.lattice.authz.normalize.MalformedRequestException;
import dev.lattice.authz.normalize.PathNormalization;
import dev.lattice.authz.normalize.PathNormalizer;
import dev.lattice.authz.normalize.RequestSyntax;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A one-line notation for requests: {@code METHOD|TCP token…} with tokens {@code path=} (raw, normalized
 * with {@code norm=}, default BASE), {@code host=}, {@code from=} (peer SPIFFE ID, scheme optional),
 * {@code ip=}, {@code dst=}, {@code port=}, {@code sni=}, {@code h:NAME=VALUE}, {@code xff=},
 * {@code trusted=}, {@code jwt=ISS/SUB}, {@code aud=a,b}, {@code azp=}, {@code claim:a.b=v1,v2}. The
 * method and header names are checked as the data plane's codec would, so malformed ones are rejected
 * before authorization like a malformed path.
 */
final class RequestText {
  private RequestText() {}

  /** The request, or a rejection (malformed). */
  record Parsed(AuthzRequest request, String rejection) {}

  static Parsed parse(String text) {
    String[] tokens = text.trim().split("\\s+");
    SimpleRequest.Builder b = SimpleRequest.builder().sourceIp("10.0.0.9").port(8080);
    String rawPath = null;
    PathNormalization norm = PathNormalization.BASE;
    Map<String, String> headers = new LinkedHashMap<>();
    Map<String, Object> claims = new HashMap<>();
    String method = tokens[0].equals("TCP") ? null : tokens[0];
    try {
      if (method != null) RequestSyntax.checkMethod(method);
      for (int i = 1; i < tokens.length; i++) {
        String t = tokens[i];
        int eq = t.indexOf('=');
        String k = t.substring(0, eq);
        String v = t.substring(eq + 1);
        if (k.startsWith("h:")) {
          RequestSyntax.checkHeaderName(k.substring(2));
          headers.put(k.substring(2), v);
          continue;
        }
        if (k.startsWith("claim:")) {
          put(claims, Arrays.asList(k.substring(6).split("\\.")), v.contains(",") ? List.of(v.split(",")) : v);
          continue;
        }
        switch (k) {
          case "path" -> rawPath = v.replace("\\0", "\0");
          case "norm" -> norm = PathNormalization.valueOf(v);
          case "host" -> b.authority(v);
          case "from" -> b.from(v);
          case "ip" -> b.sourceIp(v);
          case "dst" -> b.destinationIp(v);
          case "port" -> b.port(Integer.parseInt(v));
          case "sni" -> b.sni(v);
          case "xff" -> headers.put("x-forwarded-for", v);
          case "trusted" -> b.trustedProxies(Integer.parseInt(v));
          case "jwt" -> {
            int slash = v.indexOf('/');
            claims.put("iss", v.substring(0, slash));
            claims.put("sub", v.substring(slash + 1));
          }
          case "aud" -> claims.put("aud", List.of(v.split(",")));
          case "azp" -> claims.put("azp", v);
          default -> throw new IllegalArgumentException("request token " + t);
        }
      }
      if (method != null) {
        b.method(method).path(PathNormalizer.normalize(rawPath == null ? "/" : rawPath, norm));
        if (!claims.isEmpty()) b.auth(JwtClaims.of(claims));
      }
    } catch (MalformedRequestException e) {
      return new Parsed(null, e.getMessage());
    }
    b.headers(headers);
    return new Parsed(b.build(), null);
  }

  @SuppressWarnings("unchecked")
  private static void put(Map<String, Object> claims, List<String> path, Object value) {
    Map<String, Object> m = claims;
    for (int i = 0; i < path.size() - 1; i++) {
      m = (Map<String, Object>) m.computeIfAbsent(path.get(i), x -> new HashMap<String, Object>());
    }
    m.put(path.get(path.size() - 1), value);
  }
}
