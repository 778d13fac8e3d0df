package dev.lattice.authz;

import java.util.Locale;

/**
 * Why a request got its verdict. The wire names ({@link #code()}) appear in flow records, metrics and
 * explain output and never change.
 */
public enum Reason {
  /** No enforced (ALLOW or DENY) policy applies to the workload: allowed. */
  NO_POLICIES,
  /** DENY policies apply, none matched, and no ALLOW policy applies: allowed. */
  NO_ALLOW_POLICIES,
  /** A rule of an ALLOW policy matched (and no DENY rule did): allowed. */
  ALLOW_MATCHED,
  /** A rule of a DENY policy matched: denied. */
  DENY_MATCHED,
  /** ALLOW policies apply but none of their rules matched: denied. */
  NO_ALLOW_MATCH,
  /** The request was malformed or could not be normalized safely: rejected (400) before any policy ran. */
  REJECTED_BEFORE_AUTHZ;

  private final String code = name().toLowerCase(Locale.ROOT);

  /** The wire name, e.g. {@code deny_matched}. */
  public String code() {
    return code;
  }

  /** The reason named by {@code code} ({@code deny_matched}, …). */
  public static Reason ofCode(String code) {
    return valueOf(code.toUpperCase(Locale.ROOT));
  }
}
