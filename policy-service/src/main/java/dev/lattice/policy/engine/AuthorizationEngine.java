package dev.lattice.policy.engine;

import dev.lattice.policy.model.AuthorizationPolicy;
import dev.lattice.policy.model.ObjectMeta;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Lattice's one authorization evaluator — used by the data plane per request, by {@code explain}, and
 * by the tests — with Istio's AuthorizationPolicy semantics:
 *
 * <ol>
 *   <li>DENY policies are evaluated first: any matching rule denies.</li>
 *   <li>If no ALLOW policy applies to the workload, the request is allowed.</li>
 *   <li>If ALLOW policies apply, the request is allowed only when a rule of one of them matches;
 *       otherwise it is denied.</li>
 *   <li>AUDIT policies never change the verdict; matching ones are reported in {@link Decision#audits()}.</li>
 *   <li>A policy annotated {@code lattice.dev/dry-run: "true"} is not enforced; when enforcing the
 *       dry-run policies would change the verdict or one of them matches, the would-be verdict and the
 *       policy/rule behind it are reported in {@link Decision#dryRun()}.</li>
 * </ol>
 *
 * <p>Build one engine per workload with {@link #forWorkload} (or {@link #of} with the policies already
 * selected) whenever the policies change; {@link #evaluate} is then thread-safe and allocation-free in
 * the common case (no audit or dry-run match). Policies are ordered by namespace and name so the
 * reported deciding policy is deterministic. Immutable.
 */
public final class AuthorizationEngine {

  /** The root namespace: its policies apply mesh-wide (Istio's {@code istio-system}). */
  public static final String ROOT_NAMESPACE = "lattice-system";

  private final Compiled[] deny;
  private final Compiled[] allow;
  private final Compiled[] audit;
  private final Compiled[] dryDeny;
  private final Compiled[] dryAllow;
  private final List<PolicyRef> policies;
  private final Decision noAllowPolicy;
  private final Decision noAllowMatched;

  private AuthorizationEngine(List<AuthorizationPolicy> applicable) {
    List<AuthorizationPolicy> sorted = new ArrayList<>(applicable);
    sorted.sort(Comparator.comparing((AuthorizationPolicy p) -> p.metadata().namespaceOrDefault())
        .thenComparing(p -> p.metadata().name()));
    List<Compiled> d = new ArrayList<>();
    List<Compiled> a = new ArrayList<>();
    List<Compiled> au = new ArrayList<>();
    List<Compiled> dd = new ArrayList<>();
    List<Compiled> da = new ArrayList<>();
    List<PolicyRef> refs = new ArrayList<>();
    for (AuthorizationPolicy p : sorted) {
      if (p.action() == AuthorizationPolicy.Action.CUSTOM) continue; // rejected by validation; never enforced
      Compiled c = new Compiled(p);
      refs.add(c.ref);
      switch (p.action()) {
        case DENY -> (p.dryRun() ? dd : d).add(c);
        case ALLOW -> (p.dryRun() ? da : a).add(c);
        default -> au.add(c); // AUDIT: reported whether or not it is dry-run
      }
    }
    this.deny = d.toArray(new Compiled[0]);
    this.allow = a.toArray(new Compiled[0]);
    this.audit = au.toArray(new Compiled[0]);
    this.dryDeny = dd.toArray(new Compiled[0]);
    this.dryAllow = da.toArray(new Compiled[0]);
    this.policies = List.copyOf(refs);
    this.noAllowPolicy = new Decision(Verdict.ALLOW, null, -1, "allowed: no ALLOW policy applies to the workload", null, List.of());
    this.noAllowMatched = new Decision(Verdict.DENY, null, -1,
        "denied: ALLOW policies apply to the workload but none matched", null, List.of());
  }

  /** An engine over policies already known to apply to one workload. */
  public static AuthorizationEngine of(Collection<AuthorizationPolicy> applicable) {
    return new AuthorizationEngine(List.copyOf(applicable));
  }

  /**
   * An engine for the workload in {@code namespace} with {@code labels}: keeps the policies of its
   * namespace and of {@link #ROOT_NAMESPACE} whose selector matches (no selector = all).
   */
  public static AuthorizationEngine forWorkload(String namespace, Map<String, String> labels,
      Collection<AuthorizationPolicy> policies) {
    return forWorkload(namespace, labels, policies, ROOT_NAMESPACE);
  }

  /** As {@link #forWorkload(String, Map, Collection)} with another root namespace. */
  public static AuthorizationEngine forWorkload(String namespace, Map<String, String> labels,
      Collection<AuthorizationPolicy> policies, String rootNamespace) {
    List<AuthorizationPolicy> applicable = new ArrayList<>();
    for (AuthorizationPolicy p : policies) {
      if (appliesTo(p, namespace, labels, rootNamespace)) applicable.add(p);
    }
    return new AuthorizationEngine(applicable);
  }

  /** Whether {@code policy} applies to a workload in {@code namespace} carrying {@code labels}. */
  public static boolean appliesTo(AuthorizationPolicy policy, String namespace, Map<String, String> labels, String rootNamespace) {
    String ns = policy.metadata().namespaceOrDefault();
    if (!ns.equals(namespace) && !ns.equals(rootNamespace)) return false;
    return policy.spec().selector() == null || policy.spec().selector().matches(labels);
  }

  /** The policies this engine evaluates, in evaluation order. */
  public List<PolicyRef> policies() {
    return policies;
  }

  /** Evaluates one request. Thread-safe. */
  public Decision evaluate(RequestContext r) {
    boolean tcp = r.tcp();
    Decision enforced = decide(deny, allow, r, tcp);
    List<Decision.Match> audits = List.of();
    for (Compiled c : audit) {
      int rule = c.firstMatch(r, false, tcp);
      if (rule >= 0) {
        if (audits.isEmpty()) audits = new ArrayList<>(2);
        audits.add(new Decision.Match(c.ref, rule));
      }
    }
    Decision.Outcome dry = null;
    if (dryDeny.length > 0 || dryAllow.length > 0) {
      dry = shadow(r, tcp, enforced);
    }
    if (dry == null && audits.isEmpty()) return enforced;
    return enforced.with(dry, audits.isEmpty() ? List.of() : List.copyOf(audits));
  }

  private Decision decide(Compiled[] denies, Compiled[] allows, RequestContext r, boolean tcp) {
    for (Compiled c : denies) {
      int rule = c.firstMatch(r, true, tcp);
      if (rule >= 0) return c.decisions[rule];
    }
    if (allows.length == 0) return noAllowPolicy;
    for (Compiled c : allows) {
      int rule = c.firstMatch(r, false, tcp);
      if (rule >= 0) return c.decisions[rule];
    }
    return noAllowMatched;
  }

  /**
   * The verdict if dry-run policies were enforced alongside the enforced ones; null when it is the same
   * as the enforced verdict and no dry-run policy matched (nothing to report).
   */
  private Decision.Outcome shadow(RequestContext r, boolean tcp, Decision enforced) {
    if (enforced.verdict() == Verdict.DENY && enforced.policy() != null) return null; // an enforced DENY stays
    for (Compiled c : dryDeny) {
      int rule = c.firstMatch(r, true, tcp);
      if (rule >= 0) return c.decisions[rule].outcome();
    }
    for (Compiled c : dryAllow) {
      int rule = c.firstMatch(r, false, tcp);
      if (rule >= 0) {
        // Enforced ALLOW rules are checked first, as in the enforced run; a dry-run match is reported
        // when it is what would allow the request.
        return enforced.verdict() == Verdict.ALLOW && enforced.policy() != null ? null : c.decisions[rule].outcome();
      }
    }
    if (dryAllow.length > 0 && allow.length == 0 && enforced.verdict() == Verdict.ALLOW) {
      // Enforcing the dry-run ALLOW policies would turn "no ALLOW policy → allow" into an implicit deny.
      return noAllowMatched.outcome();
    }
    return null;
  }

  /** One policy with its rules compiled and its per-rule decisions prebuilt. */
  private static final class Compiled {
    final PolicyRef ref;
    final CompiledRule[] rules;
    final Decision[] decisions;

    Compiled(AuthorizationPolicy p) {
      ObjectMeta m = p.metadata();
      this.ref = new PolicyRef(m.namespaceOrDefault(), m.name());
      List<AuthorizationPolicy.Rule> rs = p.spec().rules();
      this.rules = new CompiledRule[rs.size()];
      this.decisions = new Decision[rs.size()];
      Verdict v = p.action() == AuthorizationPolicy.Action.DENY ? Verdict.DENY : Verdict.ALLOW;
      String verb = v == Verdict.DENY ? "denied" : "allowed";
      for (int i = 0; i < rules.length; i++) {
        rules[i] = CompiledRule.of(rs.get(i) == null ? new AuthorizationPolicy.Rule(null, null, null) : rs.get(i));
        decisions[i] = new Decision(v, ref, i, verb + " by " + p.action() + " policy " + ref + " rule " + i
            + (p.dryRun() ? " (dry-run)" : ""), null, List.of());
      }
    }

    /** Index of the first matching rule, or -1. */
    int firstMatch(RequestContext r, boolean denyPolicy, boolean tcp) {
      for (int i = 0; i < rules.length; i++) {
        CompiledRule rule = rules[i];
        if (tcp && rule.httpOnly && !denyPolicy) continue; // Istio: ALLOW/AUDIT rules with HTTP-only fields never match TCP
        if (rule.matches(r, tcp && denyPolicy)) return i;
      }
      return -1;
    }
  }
}
