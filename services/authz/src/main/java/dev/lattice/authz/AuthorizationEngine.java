package dev.lattice.authz;

import dev.lattice.authz.normalize.PathNormalization;
import dev.lattice.events.config.AuthorizationConfig;
import dev.lattice.events.config.CompiledAuthorizationPolicy;
import dev.lattice.events.policy.AuthorizationAction;
import dev.lattice.events.policy.AuthorizationRule;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * Lattice's one authorization evaluator, built from the compiled {@code AuthorizationConfig} of a
 * workload, with Istio's AuthorizationPolicy semantics:
 *
 * <ol>
 *   <li>DENY policies first: any matching rule denies ({@link Reason#DENY_MATCHED}).</li>
 *   <li>No ALLOW policy applies: allowed ({@link Reason#NO_POLICIES} when no DENY policy applies either,
 *       else {@link Reason#NO_ALLOW_POLICIES}).</li>
 *   <li>ALLOW policies apply: allowed if a rule of one matches ({@link Reason#ALLOW_MATCHED}), otherwise
 *       denied ({@link Reason#NO_ALLOW_MATCH}).</li>
 *   <li>AUDIT policies never change the verdict; each matching one is reported in {@link Decision#audits()}.</li>
 *   <li>Dry-run policies ({@code dryRun} in the compiled config) are evaluated but not enforced; what enforcing
 *       them would decide is reported in {@link Decision#dryRun()} when it differs or one of them matched.</li>
 * </ol>
 * CUSTOM (external authorization) never reaches the compiled config: validation rejects it, because no
 * provider exists to ask (see docs/policy.md).
 *
 * <p>Within a group the deciding policy is the first by namespace, then name, and its first matching rule,
 * whatever the order of the config — so the answer is deterministic. Rules are indexed ({@link RuleIndex})
 * so a request tries only the rules that can match it.
 *
 * <p>Build one engine per config snapshot; it is immutable and thread-safe, and {@link #evaluate} does not
 * allocate unless an AUDIT or dry-run policy matches.
 */
public final class AuthorizationEngine {

  private static final AuthorizationEngine EMPTY = new AuthorizationEngine(List.of(), PathNormalization.DEFAULT, 0, true);

  private final List<PolicyRef> policies;
  private final PathNormalization pathNormalization;
  private final int trustedProxies;
  private final Group http;
  private final Group tcp;

  private AuthorizationEngine(List<CompiledAuthorizationPolicy> input, PathNormalization normalization,
      int trustedProxies, boolean indexed) {
    List<CompiledAuthorizationPolicy> sorted = new ArrayList<>(input);
    sorted.sort(Comparator.comparing(CompiledAuthorizationPolicy::getNamespace)
        .thenComparing(CompiledAuthorizationPolicy::getName));
    this.policies = sorted.stream().map(p -> new PolicyRef(p.getNamespace(), p.getName())).toList();
    this.pathNormalization = normalization;
    this.trustedProxies = trustedProxies;
    this.http = new Group(sorted, false, indexed);
    this.tcp = new Group(sorted, true, indexed);
  }

  /** The engine for a compiled config (its policies, path normalization and trusted-proxy count). */
  public static AuthorizationEngine of(AuthorizationConfig config) {
    return new AuthorizationEngine(config.getPolicies(), normalization(config.getPathNormalization()),
        config.getTrustedProxies(), true);
  }

  /** The engine for some compiled policies, with default mesh settings. */
  public static AuthorizationEngine of(List<CompiledAuthorizationPolicy> policies) {
    return new AuthorizationEngine(policies, PathNormalization.DEFAULT, 0, true);
  }

  /** No policies: everything is allowed ({@link Reason#NO_POLICIES}). */
  public static AuthorizationEngine empty() {
    return EMPTY;
  }

  /** A linear-scan engine (no index): the reference the index is measured and tested against. */
  static AuthorizationEngine linear(AuthorizationConfig config) {
    return new AuthorizationEngine(config.getPolicies(), normalization(config.getPathNormalization()),
        config.getTrustedProxies(), false);
  }

  private static PathNormalization normalization(String name) {
    try {
      return name == null || name.isEmpty() ? PathNormalization.DEFAULT : PathNormalization.valueOf(name.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      // An unknown option from a newer compiler: normalize as strictly as this engine can.
      return PathNormalization.DECODE_AND_MERGE_SLASHES;
    }
  }

  /** The policies evaluated, in evaluation order (namespace, then name). */
  public List<PolicyRef> policies() {
    return policies;
  }

  /** How request paths must be normalized before {@link #evaluate} (the config's mesh setting). */
  public PathNormalization pathNormalization() {
    return pathNormalization;
  }

  /** The config's trusted-proxy count, for {@link ClientAddress#remote}. */
  public int trustedProxies() {
    return trustedProxies;
  }

  /** Evaluates one request or connection. Thread-safe. */
  public Decision evaluate(AuthzRequest r) {
    return (r.http() ? http : tcp).evaluate(r);
  }

  /** The policies of one protocol, by group, in one {@link RuleIndex}. */
  private static final class Group {
    static final int DENY = 0;
    static final int ALLOW = 1;
    static final int AUDIT = 2;
    static final int DRY_DENY = 3;
    static final int DRY_ALLOW = 4;
    private static final boolean[] COLLECTS = {false, false, true, false, false};
    private static final boolean[] ONE_GROUP = {false};
    /** One scratch walk per thread: evaluation allocates nothing unless an AUDIT or dry-run policy matches. */
    private static final ThreadLocal<RuleIndex.Scan> SCAN = ThreadLocal.withInitial(() -> new RuleIndex.Scan(COLLECTS.length));

    /** Every group in one index, walked once per request — when AUDIT or dry-run policies apply. */
    final RuleIndex index;
    /** The enforced DENY and ALLOW rules, one index each (deny walked first) — when no other group applies. */
    final RuleIndex denyOnly;
    final RuleIndex allowOnly;
    final boolean anyAllow;
    final boolean anyEnforced;
    final boolean anyShadow;
    /** A dry-run ALLOW policy applies (with or without rules that can match). */
    final boolean dryAllowPolicy;
    final Decision noPolicies;
    final Decision noAllowPolicies;
    final Decision noAllowMatch;

    Group(List<CompiledAuthorizationPolicy> sorted, boolean tcp, boolean indexed) {
      List<RuleIndex.Entry> entries = new ArrayList<>();
      boolean allowPolicy = false;
      boolean enforced = false;
      boolean shadowRules = false;
      int order = 0;
      for (CompiledAuthorizationPolicy p : sorted) {
        PolicyRef ref = new PolicyRef(p.getNamespace(), p.getName());
        AuthorizationAction action = p.getAction();
        boolean deny = action == AuthorizationAction.DENY;
        int group = switch (action) {
          case DENY -> p.getDryRun() ? DRY_DENY : DENY;
          case ALLOW -> p.getDryRun() ? DRY_ALLOW : ALLOW;
          default -> AUDIT; // reported whether or not it is dry-run
        };
        if (action == AuthorizationAction.ALLOW && !p.getDryRun()) allowPolicy = true;
        if (action != AuthorizationAction.AUDIT && !p.getDryRun()) enforced = true;
        List<AuthorizationRule> rules = p.getRules();
        for (int i = 0; i < rules.size(); i++) {
          AuthorizationRule rule = rules.get(i) == null ? AuthorizationRule.newBuilder().build() : rules.get(i);
          CompiledRule compiled = CompiledRule.of(rule, deny, tcp);
          entries.add(new RuleIndex.Entry(order++, group, compiled, matched(action, ref, i, p.getDryRun())));
          if (group >= AUDIT) shadowRules = true;
        }
      }
      this.anyAllow = allowPolicy;
      this.anyEnforced = enforced;
      this.dryAllowPolicy = hasDryAllowPolicy(sorted);
      this.anyShadow = shadowRules || dryAllowPolicy;
      // With shadow policies one walk serves all five groups; without, a DENY match spares the ALLOW walk.
      this.index = anyShadow ? new RuleIndex(entries, COLLECTS, indexed) : null;
      this.denyOnly = anyShadow ? null : new RuleIndex(onlyGroup(entries, DENY), ONE_GROUP, indexed);
      this.allowOnly = anyShadow ? null : new RuleIndex(onlyGroup(entries, ALLOW), ONE_GROUP, indexed);
      this.noPolicies = new Decision(Verdict.ALLOW, Reason.NO_POLICIES, null, -1,
          "allowed: no ALLOW or DENY policy applies to the workload", null, List.of());
      this.noAllowPolicies = new Decision(Verdict.ALLOW, Reason.NO_ALLOW_POLICIES, null, -1,
          "allowed: no DENY rule matched and no ALLOW policy applies", null, List.of());
      this.noAllowMatch = new Decision(Verdict.DENY, Reason.NO_ALLOW_MATCH, null, -1,
          "denied: ALLOW policies apply to the workload but none matched", null, List.of());
    }

    /** The entries of one group, re-tagged as group 0 of a one-group index. */
    private static List<RuleIndex.Entry> onlyGroup(List<RuleIndex.Entry> entries, int group) {
      List<RuleIndex.Entry> out = new ArrayList<>();
      for (RuleIndex.Entry e : entries) {
        if (e.group == group) out.add(new RuleIndex.Entry(e.order, 0, e.rule, e.decision));
      }
      return out;
    }

    private static boolean hasDryAllowPolicy(List<CompiledAuthorizationPolicy> sorted) {
      for (CompiledAuthorizationPolicy p : sorted) {
        if (p.getDryRun() && p.getAction() == AuthorizationAction.ALLOW) return true;
      }
      return false;
    }

    private static Decision matched(AuthorizationAction action, PolicyRef ref, int rule, boolean dryRun) {
      boolean deny = action == AuthorizationAction.DENY;
      Verdict v = deny ? Verdict.DENY : Verdict.ALLOW;
      Reason reason = deny ? Reason.DENY_MATCHED : Reason.ALLOW_MATCHED;
      String detail = (deny ? "denied" : action == AuthorizationAction.AUDIT ? "audited" : "allowed") + " by " + action
          + " policy " + ref + " rule " + rule + (dryRun ? " (dry-run)" : "");
      return new Decision(v, reason, ref, rule, detail, null, List.of());
    }

    Decision evaluate(AuthzRequest r) {
      if (!anyShadow) {
        RuleIndex.Entry d = denyOnly.first(r);
        if (d != null) return d.decision;
        if (!anyAllow) return anyEnforced ? noAllowPolicies : noPolicies;
        RuleIndex.Entry a = allowOnly.first(r);
        return a != null ? a.decision : noAllowMatch;
      }
      RuleIndex.Scan s = SCAN.get();
      s.reset();
      index.scan(r, s);
      Decision enforced = enforced(s.best);
      List<Decision.Match> audits = s.matches();
      Decision.Outcome dry = shadow(s.best, enforced);
      if (dry == null && audits.isEmpty()) return enforced;
      return enforced.withShadow(dry, audits);
    }

    /** The enforced decision from the first matching rule per group (null: nothing matched). */
    private Decision enforced(RuleIndex.Entry[] best) {
      RuleIndex.Entry d = best[DENY];
      if (d != null) return d.decision;
      if (!anyAllow) return anyEnforced ? noAllowPolicies : noPolicies;
      RuleIndex.Entry a = best[ALLOW];
      return a != null ? a.decision : noAllowMatch;
    }

    /**
     * What enforcing the dry-run policies alongside the enforced ones would decide; null when that is the
     * enforced outcome and no dry-run policy matched.
     */
    private Decision.Outcome shadow(RuleIndex.Entry[] best, Decision enforced) {
      if (enforced.reason() == Reason.DENY_MATCHED) return null; // an enforced deny stays a deny
      RuleIndex.Entry dd = best[DRY_DENY];
      if (dd != null) return dd.outcome;
      RuleIndex.Entry da = best[DRY_ALLOW];
      if (da != null) {
        // enforced ALLOW rules come first, as in the enforced run; report the dry-run rule when it is what
        // would allow the request
        return enforced.reason() == Reason.ALLOW_MATCHED ? null : da.outcome;
      }
      if (!anyAllow && dryAllowPolicy && enforced.allowed()) {
        // enforcing the dry-run ALLOW policies would turn the default allow into "no ALLOW rule matched"
        return noAllowMatch.outcome();
      }
      return null;
    }
  }
}
