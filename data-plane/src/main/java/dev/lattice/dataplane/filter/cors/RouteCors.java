package dev.lattice.dataplane.filter.cors;

import dev.lattice.events.policy.CorsPolicy;
import dev.lattice.events.policy.StringMatch;
import java.util.List;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * One route's compiled CORS policy (Istio's CorsPolicy): origin tests and the header values, joined
 * once. Immutable.
 *
 * @param allowMethods   Access-Control-Allow-Methods, or null
 * @param allowHeaders   Access-Control-Allow-Headers, or null
 * @param exposeHeaders  Access-Control-Expose-Headers, or null
 * @param maxAge         Access-Control-Max-Age in seconds, or null
 */
record RouteCors(List<Predicate<String>> origins, String allowMethods, String allowHeaders, String exposeHeaders, String maxAge,
                 boolean allowCredentials) {

  static RouteCors of(String route, CorsPolicy p) {
    List<Predicate<String>> origins = new java.util.ArrayList<>();
    for (int i = 0; i < p.getAllowOrigins().size(); i++) {
      origins.add(test("route " + route + ": corsPolicy.allowOrigins[" + i + "]", p.getAllowOrigins().get(i)));
    }
    if (p.getMaxAge() != null && p.getMaxAge() < 0) {
      throw new IllegalArgumentException("route " + route + ": corsPolicy.maxAge " + p.getMaxAge() + " ms (expected: >= 0)");
    }
    return new RouteCors(List.copyOf(origins), join(p.getAllowMethods()), join(p.getAllowHeaders()), join(p.getExposeHeaders()),
        p.getMaxAge() == null ? null : Long.toString(p.getMaxAge() / 1000), Boolean.TRUE.equals(p.getAllowCredentials()));
  }

  boolean allows(String origin) {
    for (Predicate<String> o : origins) {
      if (o.test(origin)) {
        return true;
      }
    }
    return false;
  }

  private static String join(List<String> values) {
    return values.isEmpty() ? null : String.join(",", values);
  }

  private static Predicate<String> test(String where, StringMatch m) {
    if (m.getExact() != null) {
      String e = m.getExact();
      return e.equals("*") ? o -> true : e::equals;
    }
    if (m.getPrefix() != null) {
      String pre = m.getPrefix();
      return o -> o.startsWith(pre);
    }
    if (m.getRegex() != null) {
      try {
        Pattern re = Pattern.compile(m.getRegex());
        return o -> re.matcher(o).matches();
      } catch (PatternSyntaxException e) {
        throw new IllegalArgumentException(where + ": regex " + m.getRegex() + " does not compile (" + e.getDescription() + ")");
      }
    }
    throw new IllegalArgumentException(where + ": sets none of exact, prefix, regex");
  }
}
