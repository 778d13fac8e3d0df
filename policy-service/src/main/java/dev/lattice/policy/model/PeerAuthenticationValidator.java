package dev.lattice.policy.model;

import static dev.lattice.policy.model.FieldPath.key;

/** Validates a {@link PeerAuthentication}. Stateless. */
final class PeerAuthenticationValidator {
  private PeerAuthenticationValidator() {}

  static void validate(PeerAuthentication r, Issues is) {
    PeerAuthentication.Spec s = r.spec();
    if (s.selector() != null) is.labels("spec.selector.matchLabels", s.selector().matchLabels());
    // An absent mode is UNSET (inherit), as in Istio's proto3 default — never an error.
    if (!s.portLevelMtls().isEmpty() && (s.selector() == null || s.selector().matchLabels().isEmpty())) {
      is.error("spec.portLevelMtls", "per-port modes need a workload selector (expected: spec.selector.matchLabels, as Istio)");
    }
    s.portLevelMtls().forEach((port, mtls) -> {
      String p = key("spec.portLevelMtls", port);
      is.portText(p, port);
    });
  }
}
