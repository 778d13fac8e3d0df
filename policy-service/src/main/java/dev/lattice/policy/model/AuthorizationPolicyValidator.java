package dev.lattice.policy.model;

import static dev.lattice.policy.model.FieldPath.field;
import static dev.lattice.policy.model.FieldPath.index;

import dev.lattice.authz.ConditionKey;
import dev.lattice.authz.PathTemplate;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Validates an {@link AuthorizationPolicy} against Istio's AuthorizationPolicy reference, accepting values
 * exactly where Istio accepts them; the condition keys and path templates are checked by lattice-authz's
 * own parsers, so nothing the validator accepts is a field the engine cannot evaluate. Stateless.
 */
final class AuthorizationPolicyValidator {
  /** The {@code when} keys Lattice evaluates (lattice-authz's list). */
  static final List<String> SUPPORTED_KEYS = ConditionKey.SUPPORTED;
  /** Istio's {@code serviceAccounts} form: {@code <namespace>/<service-account>}. */
  private static final Pattern SERVICE_ACCOUNT = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?/[a-z0-9]([-a-z0-9.]*[a-z0-9])?");
  private static final String NO_JWT = "end-user JWTs are not validated yet (RequestAuthentication comes with the edge"
      + " gateway), so no request carries a request principal: an ALLOW or AUDIT rule needing one matches nothing,"
      + " a negation (not-) matches every request";

  private AuthorizationPolicyValidator() {}

  static void validate(AuthorizationPolicy r, Issues is) {
    AuthorizationPolicy.Spec s = r.spec();
    if (s.selector() != null) is.labels("spec.selector.matchLabels", s.selector().matchLabels());
    if (s.action() == AuthorizationPolicy.Action.CUSTOM) {
      is.error("spec.action", "CUSTOM is not supported (expected one of: ALLOW, DENY, AUDIT)");
    }
    if (s.provider() != null) {
      is.error("spec.provider", "external authorization providers are not supported (expected: no provider)");
    }
    String dryRun = r.metadata().annotations().get(ObjectMeta.DRY_RUN_ANNOTATION);
    if (dryRun != null && !dryRun.equalsIgnoreCase("true") && !dryRun.equalsIgnoreCase("false")) {
      is.error("metadata.annotations[\"" + ObjectMeta.DRY_RUN_ANNOTATION + "\"]", "\"" + dryRun + "\" (expected: \"true\" or \"false\")");
    }
    if (s.rules().isEmpty()) {
      if (r.action() == AuthorizationPolicy.Action.ALLOW) {
        is.warn("spec.rules", "no rules: this ALLOW policy matches nothing, so every request to the selected workloads is denied");
      } else {
        is.warn("spec.rules", "no rules: this " + r.action() + " policy never matches");
      }
    }
    for (int i = 0; i < s.rules().size(); i++) {
      String p = index("spec.rules", i);
      AuthorizationPolicy.Rule rule = s.rules().get(i);
      if (rule == null) {
        is.error(p, "empty rule (expected: an object; use {} to match every request)");
        continue;
      }
      for (int f = 0; f < rule.from().size(); f++) from(index(field(p, "from"), f), rule.from().get(f), is);
      for (int t = 0; t < rule.to().size(); t++) to(index(field(p, "to"), t), rule.to().get(t), is);
      for (int w = 0; w < rule.when().size(); w++) when(index(field(p, "when"), w), rule.when().get(w), is);
    }
  }

  private static void from(String p, AuthorizationPolicy.From from, Issues is) {
    if (from == null || from.source() == null) {
      is.error(field(p, "source"), "missing (expected: an object with principals, namespaces, serviceAccounts or ipBlocks)");
      return;
    }
    AuthorizationPolicy.Source s = from.source();
    String sp = field(p, "source");
    if (s.principals().isEmpty() && s.notPrincipals().isEmpty() && s.namespaces().isEmpty() && s.notNamespaces().isEmpty()
        && s.ipBlocks().isEmpty() && s.notIpBlocks().isEmpty() && s.requestPrincipals().isEmpty()
        && s.notRequestPrincipals().isEmpty() && s.remoteIpBlocks().isEmpty() && s.notRemoteIpBlocks().isEmpty()
        && s.serviceAccounts().isEmpty() && s.notServiceAccounts().isEmpty()) {
      is.error(sp, "empty source (expected: at least one of principals, requestPrincipals, namespaces, serviceAccounts,"
          + " ipBlocks, remoteIpBlocks or their not- forms)");
    }
    principals(field(sp, "principals"), s.principals(), is);
    principals(field(sp, "notPrincipals"), s.notPrincipals(), is);
    requestPrincipals(field(sp, "requestPrincipals"), s.requestPrincipals(), is);
    requestPrincipals(field(sp, "notRequestPrincipals"), s.notRequestPrincipals(), is);
    namespaces(field(sp, "namespaces"), s.namespaces(), is);
    namespaces(field(sp, "notNamespaces"), s.notNamespaces(), is);
    serviceAccounts(field(sp, "serviceAccounts"), s.serviceAccounts(), is);
    serviceAccounts(field(sp, "notServiceAccounts"), s.notServiceAccounts(), is);
    if ((!s.serviceAccounts().isEmpty() || !s.notServiceAccounts().isEmpty())
        && (!s.principals().isEmpty() || !s.notPrincipals().isEmpty() || !s.namespaces().isEmpty() || !s.notNamespaces().isEmpty())) {
      is.error(field(sp, "serviceAccounts"), "cannot be combined with principals or namespaces in one source"
          + " (a service account already names both; expected: one of them, or a second source)");
    }
    blocks(field(sp, "ipBlocks"), s.ipBlocks(), is);
    blocks(field(sp, "notIpBlocks"), s.notIpBlocks(), is);
    blocks(field(sp, "remoteIpBlocks"), s.remoteIpBlocks(), is);
    blocks(field(sp, "notRemoteIpBlocks"), s.notRemoteIpBlocks(), is);
  }

  private static void to(String p, AuthorizationPolicy.To to, Issues is) {
    if (to == null || to.operation() == null) {
      is.error(field(p, "operation"), "missing (expected: an object with hosts, ports, methods or paths)");
      return;
    }
    AuthorizationPolicy.Operation o = to.operation();
    String op = field(p, "operation");
    if (o.hosts().isEmpty() && o.notHosts().isEmpty() && o.ports().isEmpty() && o.notPorts().isEmpty()
        && o.methods().isEmpty() && o.notMethods().isEmpty() && o.paths().isEmpty() && o.notPaths().isEmpty()) {
      is.error(op, "empty operation (expected: at least one of hosts, ports, methods, paths or their not- forms)");
    }
    wildcards(field(op, "hosts"), o.hosts(), "a host", is);
    wildcards(field(op, "notHosts"), o.notHosts(), "a host", is);
    for (int i = 0; i < o.ports().size(); i++) is.portText(index(field(op, "ports"), i), o.ports().get(i));
    for (int i = 0; i < o.notPorts().size(); i++) is.portText(index(field(op, "notPorts"), i), o.notPorts().get(i));
    for (int i = 0; i < o.methods().size(); i++) is.method(index(field(op, "methods"), i), o.methods().get(i));
    for (int i = 0; i < o.notMethods().size(); i++) is.method(index(field(op, "notMethods"), i), o.notMethods().get(i));
    paths(field(op, "paths"), o.paths(), is);
    paths(field(op, "notPaths"), o.notPaths(), is);
  }

  private static void when(String p, AuthorizationPolicy.Condition c, Issues is) {
    if (c == null) {
      is.error(p, "empty condition (expected: an object with key and values)");
      return;
    }
    is.required(field(p, "key"), c.key(), "one of " + SUPPORTED_KEYS);
    if (c.values().isEmpty() && c.notValues().isEmpty()) {
      is.error(p, "no values (expected: values and/or notValues)");
    }
    if (c.key() == null) return;
    String kp = field(p, "key");
    String vp = field(p, "values");
    String np = field(p, "notValues");
    ConditionKey key = ConditionKey.parse(c.key());
    switch (key.attribute()) {
      case REQUEST_HEADER -> is.headerName(kp, key.argument());
      case SOURCE_PRINCIPAL -> {
        principals(vp, c.values(), is);
        principals(np, c.notValues(), is);
      }
      case SOURCE_NAMESPACE -> {
        namespaces(vp, c.values(), is);
        namespaces(np, c.notValues(), is);
      }
      case SOURCE_IP, REMOTE_IP, DESTINATION_IP -> {
        blocks(vp, c.values(), is);
        blocks(np, c.notValues(), is);
      }
      case DESTINATION_PORT -> {
        for (int i = 0; i < c.values().size(); i++) is.portText(index(vp, i), c.values().get(i));
        for (int i = 0; i < c.notValues().size(); i++) is.portText(index(np, i), c.notValues().get(i));
      }
      case REQUEST_AUTH_PRINCIPAL, REQUEST_AUTH_AUDIENCES, REQUEST_AUTH_PRESENTER, REQUEST_AUTH_CLAIMS -> {
        wildcards(vp, c.values(), "a value", is);
        wildcards(np, c.notValues(), "a value", is);
        is.warn(kp, "\"" + c.key() + "\": " + NO_JWT);
      }
      case CONNECTION_SNI -> {
        wildcards(vp, c.values(), "a server name", is);
        wildcards(np, c.notValues(), "a server name", is);
      }
      default -> {
        String hint = c.key().startsWith("request.auth.claims") ? " (claims are written request.auth.claims[name] or"
            + " request.auth.claims[outer][inner])" : "";
        is.error(kp, "unsupported key \"" + c.key() + "\"" + hint + " (expected one of: " + String.join(", ", SUPPORTED_KEYS) + ")");
      }
    }
  }

  private static void requestPrincipals(String p, List<String> values, Issues is) {
    if (values.isEmpty()) return;
    wildcards(p, values, "a request principal <issuer>/<subject>", is);
    is.warn(p, NO_JWT);
  }

  private static void serviceAccounts(String p, List<String> values, Issues is) {
    for (int i = 0; i < values.size(); i++) {
      String v = values.get(i);
      if (v == null || !SERVICE_ACCOUNT.matcher(v).matches()) {
        is.error(index(p, i), (v == null ? "empty" : "\"" + v + "\"") + " (expected: <namespace>/<service-account>,"
            + " exact — no wildcards, e.g. shop/checkout)");
      }
    }
  }

  private static void principals(String p, List<String> values, Issues is) {
    for (int i = 0; i < values.size(); i++) is.principal(index(p, i), values.get(i));
  }

  private static void namespaces(String p, List<String> values, Issues is) {
    for (int i = 0; i < values.size(); i++) {
      String ns = values.get(i);
      String ip = index(p, i);
      if (ns == null || ns.isEmpty()) {
        is.error(ip, "empty namespace");
        continue;
      }
      if (ns.equals("*")) continue;
      wildcardShape(ip, ns, "a namespace", is);
      String core = ns.replace("*", "");
      if (!ns.contains("*")) {
        is.namespaceRef(ip, ns);
        if (is.registryAvailable() && !is.context.registry().hasWorkloadsInNamespace(ns)) {
          is.warn(ip, "namespace \"" + ns + "\" has no workloads");
        }
      } else if (!core.matches("[a-z0-9-]*")) {
        is.error(ip, "\"" + ns + "\" (expected: a namespace, optionally with a '*' prefix or suffix)");
      }
    }
  }

  private static void blocks(String p, List<String> values, Issues is) {
    for (int i = 0; i < values.size(); i++) {
      try {
        IpBlock.parse(values.get(i));
      } catch (IllegalArgumentException e) {
        is.error(index(p, i), e.getMessage());
      }
    }
  }

  private static void paths(String p, List<String> values, Issues is) {
    for (int i = 0; i < values.size(); i++) {
      String v = values.get(i);
      String ip = index(p, i);
      if (v == null || v.isEmpty()) {
        is.error(ip, "empty path (expected: a path such as /api/*)");
        continue;
      }
      if (v.contains("{") || v.contains("}")) {
        // Istio: a path with '{' or '}' is a template and must be a valid one.
        PathTemplate.problem(v).ifPresent(problem -> is.error(ip, problem));
        continue;
      }
      wildcardShape(ip, v, "a path", is);
      if (!v.startsWith("/") && !v.startsWith("*")) {
        is.error(ip, "\"" + v + "\" (expected: a path starting with '/', or with a '*' prefix)");
      }
    }
  }

  private static void wildcards(String p, List<String> values, String what, Issues is) {
    for (int i = 0; i < values.size(); i++) {
      String v = values.get(i);
      if (v == null || v.isEmpty()) {
        is.error(index(p, i), "empty value (expected: " + what + ")");
      } else {
        wildcardShape(index(p, i), v, what, is);
      }
    }
  }

  /** One '*' as first or last character, or '*' alone. */
  private static void wildcardShape(String p, String v, String what, Issues is) {
    if (v.equals("*")) return;
    String inner = v.substring(v.startsWith("*") ? 1 : 0, v.length() - (v.endsWith("*") ? 1 : 0));
    if (inner.contains("*") || (v.startsWith("*") && v.endsWith("*") && v.length() > 1)) {
      is.error(p, "\"" + v + "\": '*' is allowed only as a prefix or a suffix (expected: " + what + " such as /api/* or *.html)");
    }
  }
}
