package dev.lattice.authz;

/** The outcome of authorization. */
public enum Verdict {
  ALLOW,
  DENY
}
