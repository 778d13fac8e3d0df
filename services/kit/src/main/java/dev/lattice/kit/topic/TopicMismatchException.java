package dev.lattice.kit.topic;

import java.util.List;

/**
 * An existing topic contradicts its spec in a way that would lose or keep the wrong data (cleanup
 * policy). The message names every such topic with what was expected and what was seen; the service
 * must not start until an operator fixes or deletes the topic.
 */
public final class TopicMismatchException extends RuntimeException {

  private final List<String> mismatches;

  public TopicMismatchException(List<String> mismatches) {
    super("existing topics do not match the topic catalog: " + String.join("; ", mismatches));
    this.mismatches = List.copyOf(mismatches);
  }

  /** One line per problem: {@code <topic>: cleanup.policy <seen> (expected: <expected>)}. */
  public List<String> mismatches() {
    return mismatches;
  }
}
