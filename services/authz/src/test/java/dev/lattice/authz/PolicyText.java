package dev.lattice.authz;

import dev.lattice.events.config.AuthorizationConfig;
import dev.lattice.events.config.CompiledAuthorizationPolicy;
import dev.lattice.events.policy.AuthorizationAction;
import dev.lattice.events.policy.AuthorizationRule;
import dev.lattice.events.policy.Condition;
import dev.lattice.events.policy.Operation;
import dev.lattice.events.policy.RuleFrom;
import dev.lattice.events.policy.RuleTo;
import dev.lattice.events.policy.Source;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A one-line notation for compiled policies, so semantics tables stay readable:
 *
 * <pre>
 *   ACTION ns/name [dry] : rule | rule | …          (no ':' part = no rules; "{}" = an empty rule)
 *   rule  = token token …
 *   token = from[#n].field=v1,v2   to[#n].field=v1,v2   when.KEY=v1,v2   when.KEY!=v1,v2
 * </pre>
 * {@code #n} groups fields into the n-th {@code from}/{@code to} entry (default #0); {@code !=} on a
 * condition sets its {@code notValues}. Policies of one config are separated by {@code ;;}.
 */
final class PolicyText {
  private PolicyText() {}

  static AuthorizationConfig config(String text) {
    List<CompiledAuthorizationPolicy> policies = new ArrayList<>();
    if (!text.isBlank()) {
      for (String p : text.split(";;")) policies.add(policy(p.trim()));
    }
    return AuthorizationConfig.newBuilder().setName("test").setPolicies(policies).build();
  }

  static CompiledAuthorizationPolicy policy(String text) {
    int colon = text.indexOf(':');
    String head = colon < 0 ? text : text.substring(0, colon);
    String[] h = head.trim().split("\\s+");
    String[] ref = h[1].split("/");
    boolean dry = h.length > 2 && h[2].equals("dry");
    List<AuthorizationRule> rules = new ArrayList<>();
    if (colon >= 0) {
      for (String r : text.substring(colon + 1).split("\\|")) rules.add(rule(r.trim()));
    }
    return CompiledAuthorizationPolicy.newBuilder().setNamespace(ref[0]).setName(ref[1])
        .setAction(AuthorizationAction.valueOf(h[0])).setDryRun(dry).setRules(rules).build();
  }

  static AuthorizationRule rule(String text) {
    Map<Integer, Map<String, List<String>>> froms = new TreeMap<>();
    Map<Integer, Map<String, List<String>>> tos = new TreeMap<>();
    List<Condition> whens = new ArrayList<>();
    if (!text.equals("{}") && !text.isEmpty()) {
      for (String token : text.split("\\s+")) {
        if (token.startsWith("when.")) {
          boolean not = token.contains("!=");
          int eq = token.indexOf(not ? "!=" : "=");
          String key = token.substring(5, eq);
          List<String> values = values(token.substring(eq + (not ? 2 : 1)));
          whens.add(Condition.newBuilder().setKey(key).setValues(not ? List.of() : values)
              .setNotValues(not ? values : List.of()).build());
          continue;
        }
        int dot = token.indexOf('.');
        int eq = token.indexOf('=');
        String section = token.substring(0, dot);
        String field = token.substring(dot + 1, eq);
        int n = 0;
        int hash = section.indexOf('#');
        if (hash >= 0) {
          n = Integer.parseInt(section.substring(hash + 1));
          section = section.substring(0, hash);
        }
        Map<Integer, Map<String, List<String>>> target = section.equals("from") ? froms : tos;
        target.computeIfAbsent(n, k -> new TreeMap<>()).put(field, values(token.substring(eq + 1)));
      }
    }
    List<RuleFrom> from = new ArrayList<>();
    froms.values().forEach(f -> from.add(RuleFrom.newBuilder().setSource(source(f)).build()));
    List<RuleTo> to = new ArrayList<>();
    tos.values().forEach(t -> to.add(RuleTo.newBuilder().setOperation(operation(t)).build()));
    return AuthorizationRule.newBuilder().setFrom(from).setTo(to).setWhen(whens).build();
  }

  private static List<String> values(String csv) {
    return csv.isEmpty() ? List.of() : Arrays.asList(csv.split(","));
  }

  private static Source source(Map<String, List<String>> f) {
    Source.Builder b = Source.newBuilder();
    f.forEach((k, v) -> {
      switch (k) {
        case "principals" -> b.setPrincipals(v);
        case "notPrincipals" -> b.setNotPrincipals(v);
        case "requestPrincipals" -> b.setRequestPrincipals(v);
        case "notRequestPrincipals" -> b.setNotRequestPrincipals(v);
        case "namespaces" -> b.setNamespaces(v);
        case "notNamespaces" -> b.setNotNamespaces(v);
        case "serviceAccounts" -> b.setServiceAccounts(v);
        case "notServiceAccounts" -> b.setNotServiceAccounts(v);
        case "ipBlocks" -> b.setIpBlocks(v);
        case "notIpBlocks" -> b.setNotIpBlocks(v);
        case "remoteIpBlocks" -> b.setRemoteIpBlocks(v);
        case "notRemoteIpBlocks" -> b.setNotRemoteIpBlocks(v);
        default -> throw new IllegalArgumentException("source field " + k);
      }
    });
    return b.build();
  }

  private static Operation operation(Map<String, List<String>> t) {
    Operation.Builder b = Operation.newBuilder();
    t.forEach((k, v) -> {
      switch (k) {
        case "hosts" -> b.setHosts(v);
        case "notHosts" -> b.setNotHosts(v);
        case "ports" -> b.setPorts(v);
        case "notPorts" -> b.setNotPorts(v);
        case "methods" -> b.setMethods(v);
        case "notMethods" -> b.setNotMethods(v);
        case "paths" -> b.setPaths(v);
        case "notPaths" -> b.setNotPaths(v);
        default -> throw new IllegalArgumentException("operation field " + k);
      }
    });
    return b.build();
  }
}
