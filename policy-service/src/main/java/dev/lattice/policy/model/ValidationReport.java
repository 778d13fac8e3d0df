package dev.lattice.policy.model;

import java.util.List;

/**
 * The outcome of validating one resource: blocking errors and non-blocking warnings, each in the order
 * found. Immutable value.
 */
public record ValidationReport(List<ValidationIssue> errors, List<ValidationIssue> warnings) {

  public ValidationReport {
    errors = List.copyOf(errors);
    warnings = List.copyOf(warnings);
  }

  public static ValidationReport of(List<ValidationIssue> issues) {
    return new ValidationReport(
        issues.stream().filter(ValidationIssue::isError).toList(),
        issues.stream().filter(i -> !i.isError()).toList());
  }

  /** Whether there is no error (warnings allowed). */
  public boolean valid() {
    return errors.isEmpty();
  }

  /** The first error, for one-line messages (e.g. the rejected-topic reason). */
  public ValidationIssue firstError() {
    return errors.isEmpty() ? null : errors.get(0);
  }
}
