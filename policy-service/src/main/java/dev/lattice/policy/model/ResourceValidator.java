package dev.lattice.policy.model;

import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * Validates resources: structural and semantic errors with field paths (blocking), and registry-based
 * warnings (non-blocking). The single place that decides whether a resource may be compiled.
 *
 * <p>Contract with the compiler: a resource is compiled only if {@link #isCompilable(Resource)}; that
 * check uses the resource alone (no registry, no other resources), so it gives the same answer on every
 * replay. Cross-resource problems (an unknown subset) are errors at admission through REST/CLI/Kafka and
 * Kubernetes, but the compiler tolerates them later (a route to a subset that disappeared gets no
 * endpoints). Stateless and thread-safe.
 */
public final class ResourceValidator {

  private ResourceValidator() {}

  /** Validates with only the resource's own rules. */
  public static ValidationReport validate(Resource r) {
    return validate(r, ValidationContext.standalone());
  }

  /** Validates with registry warnings and cross-resource checks from {@code context}. */
  public static ValidationReport validate(Resource r, ValidationContext context) {
    Issues is = new Issues(context);
    metadata(r, is);
    if (r.spec() == null) {
      is.error("spec", "missing (expected: an object)");
    } else {
      if (r instanceof TrafficRoute tr) {
        TrafficRouteValidator.validate(tr, is);
      } else if (r instanceof DestinationPolicy dp) {
        DestinationPolicyValidator.validate(dp, is);
      } else if (r instanceof PeerAuthentication pa) {
        PeerAuthenticationValidator.validate(pa, is);
      } else if (r instanceof AuthorizationPolicy ap) {
        AuthorizationPolicyValidator.validate(ap, is);
      } else if (r instanceof RateLimitPolicy rl) {
        RateLimitPolicyValidator.validate(rl, is);
      }
    }
    return ValidationReport.of(is.list);
  }

  /** Whether the compiler may compile {@code r}: no error under {@link ValidationContext#standalone()}. */
  public static boolean isCompilable(Resource r) {
    return r != null && validate(r).valid();
  }

  private static void metadata(Resource r, Issues is) {
    ObjectMeta m = r.metadata();
    if (m == null) {
      is.error("metadata", "missing (expected: an object with at least a name)");
      return;
    }
    is.required("metadata.name", m.name(), "a name of lower-case letters, digits, '-' and '.'");
    is.dnsSubdomain("metadata.name", m.name(), "a name");
    is.dnsLabel("metadata.namespace", m.namespace(), "a namespace");
    is.labels("metadata.labels", m.labels());
    if (m.resourceVersion() != null && !m.resourceVersion().isEmpty() && m.resourceVersionNumber().isEmpty()) {
      is.error("metadata.resourceVersion", "\"" + m.resourceVersion() + "\" (expected: the decimal resourceVersion returned by the server)");
    }
    if (m.creationTimestamp() != null) {
      try {
        Instant.parse(m.creationTimestamp());
      } catch (DateTimeParseException e) {
        is.error("metadata.creationTimestamp", "\"" + m.creationTimestamp() + "\" (expected: an RFC 3339 time such as 2026-01-02T03:04:05Z)");
      }
    }
    if (!(r instanceof AuthorizationPolicy) && m.annotations().containsKey(ObjectMeta.DRY_RUN_ANNOTATION)) {
      is.warn("metadata.annotations[\"" + ObjectMeta.DRY_RUN_ANNOTATION + "\"]", "only AuthorizationPolicy supports dry-run; it is ignored on " + r.kind().kindName());
    }
  }
}
