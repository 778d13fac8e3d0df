package dev.lattice.policy.engine;

import java.util.List;

/**
 * The result of evaluating one request: the enforced verdict and what decided it, the would-be verdict
 * when dry-run policies apply, and the AUDIT policies that matched. Immutable value.
 *
 * @param verdict the enforced verdict
 * @param policy the policy that decided, or null when the default decided (no ALLOW policy → allow; ALLOW
 *     policies present but none matched → deny)
 * @param ruleIndex index of the deciding rule in {@code policy}'s rules, or -1
 * @param reason one-line explanation, e.g. {@code denied by DENY policy prod/block-admin rule 0}
 * @param dryRun the verdict if dry-run policies were enforced too; null when they would change nothing
 *     and none of them matched
 * @param audits AUDIT policies (and rules) that matched; they never change the verdict
 */
public record Decision(Verdict verdict, PolicyRef policy, int ruleIndex, String reason, Outcome dryRun, List<Match> audits) {

  /** A policy rule that matched. */
  public record Match(PolicyRef policy, int ruleIndex) {
    @Override
    public String toString() {
      return policy + " rule " + ruleIndex;
    }
  }

  /** A verdict and what decided it (used for dry-run outcomes). */
  public record Outcome(Verdict verdict, PolicyRef policy, int ruleIndex, String reason) {}

  public Decision {
    audits = audits == null ? List.of() : audits;
  }

  public boolean allowed() {
    return verdict == Verdict.ALLOW;
  }

  /** The enforced verdict as an {@link Outcome}. */
  public Outcome outcome() {
    return new Outcome(verdict, policy, ruleIndex, reason);
  }

  Decision with(Outcome dry, List<Match> auditMatches) {
    return new Decision(verdict, policy, ruleIndex, reason, dry, auditMatches);
  }
}
