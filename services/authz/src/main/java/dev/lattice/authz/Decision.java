package dev.lattice.authz;

import java.util.List;
import java.util.Objects;

/**
 * The result of authorizing one request or connection: the enforced verdict, why, and which policy and
 * rule decided; plus the shadow outcomes that never change the verdict — what enforcing the dry-run
 * policies too would have decided, and the AUDIT policies that matched. Immutable value; the engine hands
 * out preallocated instances on the common path (no dry-run or audit match), so compare with
 * {@link #equals}, never {@code ==}.
 *
 * @param verdict the enforced verdict
 * @param reason why
 * @param policy the deciding policy; null when a default decided ({@link Reason#NO_POLICIES},
 *     {@link Reason#NO_ALLOW_POLICIES}, {@link Reason#NO_ALLOW_MATCH}, {@link Reason#REJECTED_BEFORE_AUTHZ})
 * @param ruleIndex index of the deciding rule in the policy's rules, or -1
 * @param detail one human-readable line, e.g. {@code denied by DENY policy prod/block-admin rule 0}
 * @param dryRun the outcome if dry-run policies were enforced alongside the enforced ones; null when that
 *     would change nothing and no dry-run policy matched
 * @param audits the AUDIT policies (first matching rule of each) that matched; empty when none
 */
public record Decision(
    Verdict verdict, Reason reason, PolicyRef policy, int ruleIndex, String detail, Outcome dryRun,
    List<Match> audits) {

  /** A policy rule that matched. */
  public record Match(PolicyRef policy, int ruleIndex) {
    @Override
    public String toString() {
      return policy + " rule " + ruleIndex;
    }
  }

  /** A verdict and what decided it (a dry-run outcome). */
  public record Outcome(Verdict verdict, Reason reason, PolicyRef policy, int ruleIndex, String detail) {}

  public Decision {
    Objects.requireNonNull(verdict, "verdict");
    Objects.requireNonNull(reason, "reason");
    audits = audits == null ? List.of() : List.copyOf(audits);
  }

  /** A request rejected before authorization (malformed, or not normalizable): the proxy answers 400. */
  public static Decision rejectedBeforeAuthz(String detail) {
    return new Decision(Verdict.DENY, Reason.REJECTED_BEFORE_AUTHZ, null, -1, detail, null, List.of());
  }

  public boolean allowed() {
    return verdict == Verdict.ALLOW;
  }

  /** Whether a dry-run outcome or an audit match is attached (the flow record should carry them). */
  public boolean hasShadow() {
    return dryRun != null || !audits.isEmpty();
  }

  /** The enforced outcome as an {@link Outcome}. */
  public Outcome outcome() {
    return new Outcome(verdict, reason, policy, ruleIndex, detail);
  }

  /** {@code namespace/name} of the deciding policy, or null. */
  public String policyName() {
    return policy == null ? null : policy.toString();
  }

  Decision withShadow(Outcome dry, List<Match> auditMatches) {
    return new Decision(verdict, reason, policy, ruleIndex, detail, dry, auditMatches);
  }
}
