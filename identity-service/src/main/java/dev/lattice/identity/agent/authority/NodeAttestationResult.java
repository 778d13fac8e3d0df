package dev.lattice.identity.agent.authority;

/** The identity server's answer to a node attestation: the node SVID and the trust bundle. */
public record NodeAttestationResult(SignedX509Svid nodeSvid, TrustDomainBundle bundle) {}
