package dev.lattice.policy.model;

import static dev.lattice.policy.model.FieldPath.field;
import static dev.lattice.policy.model.FieldPath.index;

import java.util.HashMap;
import java.util.Map;

/** Validates a {@link RateLimitPolicy}. Stateless. */
final class RateLimitPolicyValidator {
  private RateLimitPolicyValidator() {}

  static void validate(RateLimitPolicy r, Issues is) {
    RateLimitPolicy.Spec s = r.spec();
    if (s.selector() != null) is.labels("spec.selector.matchLabels", s.selector().matchLabels());
    if (s.limits().isEmpty()) is.error("spec.limits", "empty (expected: at least one limit)");
    is.range("spec.responseStatus", s.responseStatus(), 400, 599);
    Map<String, Integer> names = new HashMap<>();
    for (int i = 0; i < s.limits().size(); i++) {
      String p = index("spec.limits", i);
      RateLimitPolicy.Limit l = s.limits().get(i);
      if (l == null) {
        is.error(p, "empty limit (expected: an object with requestsPerUnit)");
        continue;
      }
      if (l.name() != null && names.putIfAbsent(l.name(), i) != null) {
        is.error(field(p, "name"), "duplicate limit name \"" + l.name() + "\" (expected: unique names)");
      }
      is.required(field(p, "requestsPerUnit"), l.requestsPerUnit(), "requests allowed per unit, at least 1");
      is.atLeast(field(p, "requestsPerUnit"), l.requestsPerUnit(), 1);
      is.atLeast(field(p, "burst"), l.burst(), 1);
      if (l.perHeader() != null && !l.perHeader().matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+")) {
        is.error(field(p, "perHeader"), "\"" + l.perHeader() + "\" is not a header name (expected: an HTTP token such as x-tenant)");
      }
      if (l.match() != null) {
        String mp = field(p, "match");
        is.stringMatch(field(mp, "uri"), l.match().uri(), false, true);
        for (int k = 0; k < l.match().methods().size(); k++) is.method(index(field(mp, "methods"), k), l.match().methods().get(k));
        for (int k = 0; k < l.match().sourcePrincipals().size(); k++) {
          is.principal(index(field(mp, "sourcePrincipals"), k), l.match().sourcePrincipals().get(k));
        }
        is.noNulls(field(mp, "routes"), l.match().routes(), "a route name");
      }
    }
  }
}
