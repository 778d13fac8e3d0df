package dev.lattice.policy.engine;

/** The outcome of authorization. */
public enum Verdict { ALLOW, DENY }
