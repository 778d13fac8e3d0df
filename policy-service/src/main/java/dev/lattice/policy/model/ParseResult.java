package dev.lattice.policy.model;

import java.util.List;

/**
 * The outcome of parsing a YAML/JSON input: its documents, or a syntax error that stopped reading
 * (with line and column; documents before it are kept). Immutable value.
 */
public record ParseResult(List<ParsedDocument> documents, ValidationIssue syntaxError) {
  public ParseResult {
    documents = List.copyOf(documents);
  }

  /** Whether the input was well-formed and every document was read. */
  public boolean ok() {
    return syntaxError == null && documents.stream().allMatch(ParsedDocument::ok);
  }

  /** The resources that were read. */
  public List<Resource> resources() {
    return documents.stream().filter(ParsedDocument::ok).map(ParsedDocument::resource).toList();
  }

  /** Every error: the syntax error and each document's, prefixed with the document position when there are several. */
  public List<String> errorMessages() {
    List<String> out = new java.util.ArrayList<>();
    boolean many = documents.size() > 1;
    for (ParsedDocument d : documents) {
      for (ValidationIssue e : d.errors()) out.add((many ? d.position() + ": " : "") + e);
    }
    if (syntaxError != null) out.add(syntaxError.toString());
    return out;
  }
}
