package dev.lattice.policy.model;

import java.util.List;

/**
 * One document of a parsed YAML/JSON input: the resource when it could be read, else the errors that
 * prevented reading it (structural errors: unknown kind, unknown field, wrong type). Semantic validation
 * is {@link ResourceValidator}'s job. Immutable value.
 *
 * @param index 0-based position of the document in its input
 * @param line 1-based line where the document starts (1 for JSON)
 * @param resource the resource, or {@code null} when {@code errors} is not empty
 * @param errors structural errors, each with a field path
 */
public record ParsedDocument(int index, int line, Resource resource, List<ValidationIssue> errors) {
  public ParsedDocument {
    errors = List.copyOf(errors);
  }

  public boolean ok() {
    return errors.isEmpty() && resource != null;
  }

  /** Human-readable position: {@code document 2 (line 14)}. */
  public String position() {
    return "document " + (index + 1) + " (line " + line + ")";
  }
}
