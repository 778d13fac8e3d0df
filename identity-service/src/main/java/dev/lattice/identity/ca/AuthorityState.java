package dev.lattice.identity.ca;

/**
 * Life cycle of one CA generation: PREPARED (published in the bundle, not yet signing) → ACTIVE (signs
 * every new SVID) → RETIRED (kept in the bundle until every SVID it signed has expired, then dropped).
 */
public enum AuthorityState { PREPARED, ACTIVE, RETIRED }
