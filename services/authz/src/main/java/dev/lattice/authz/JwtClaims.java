package dev.lattice.authz;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A {@link RequestAuth} over the claims of an already validated JWT (a JSON object as nested maps and
 * lists). Immutable once built; the caller hands over a map it no longer changes.
 */
public final class JwtClaims implements RequestAuth {
  private final Map<String, Object> claims;
  private final String principal;
  private final List<String> audiences;

  private JwtClaims(Map<String, Object> claims) {
    this.claims = claims;
    Object iss = claims.get("iss");
    Object sub = claims.get("sub");
    this.principal = iss instanceof String i && sub instanceof String s ? i + "/" + s : "";
    this.audiences = strings(claims.get("aud"));
  }

  /** The request credential made of these (validated) claims. */
  public static JwtClaims of(Map<String, Object> claims) {
    return new JwtClaims(Map.copyOf(claims));
  }

  @Override
  public String principal() {
    return principal;
  }

  @Override
  public List<String> audiences() {
    return audiences;
  }

  @Override
  public String presenter() {
    return claims.get("azp") instanceof String s ? s : null;
  }

  @Override
  public List<String> claim(List<String> path) {
    Object v = claims;
    for (String name : path) {
      if (!(v instanceof Map<?, ?> m)) return List.of();
      v = m.get(name);
    }
    return strings(v);
  }

  private static List<String> strings(Object v) {
    if (v instanceof String s) return List.of(s);
    if (v instanceof List<?> l) {
      List<String> out = new ArrayList<>(l.size());
      for (Object o : l) {
        if (o instanceof String s) out.add(s);
      }
      return List.copyOf(out);
    }
    return List.of();
  }
}
