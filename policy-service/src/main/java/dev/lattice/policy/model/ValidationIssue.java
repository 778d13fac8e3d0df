package dev.lattice.policy.model;

import java.util.Objects;

/**
 * One finding about a resource: where ({@code path}, e.g. {@code spec.http[0].route[1].weight}) and what
 * ({@code message}, saying what was seen and what was expected). Immutable value.
 *
 * @param severity ERROR blocks the resource, WARNING does not
 * @param path field path from the document root; empty for document-level problems (syntax)
 * @param message human-readable, actionable text
 */
public record ValidationIssue(Severity severity, String path, String message) {

  /** Whether an issue blocks the resource. */
  public enum Severity { ERROR, WARNING }

  public ValidationIssue {
    Objects.requireNonNull(severity, "severity");
    path = path == null ? "" : path;
    Objects.requireNonNull(message, "message");
  }

  public static ValidationIssue error(String path, String message) {
    return new ValidationIssue(Severity.ERROR, path, message);
  }

  public static ValidationIssue warning(String path, String message) {
    return new ValidationIssue(Severity.WARNING, path, message);
  }

  public boolean isError() {
    return severity == Severity.ERROR;
  }

  /** {@code path: message}, or just the message when there is no path. */
  @Override
  public String toString() {
    return path.isEmpty() ? message : path + ": " + message;
  }
}
