package dev.lattice.distributor.snapshot;

/**
 * A change of the topic the distributor does not serve yet because serving it would leave a reference
 * dangling; {@code reason} names both ends. Immutable value.
 *
 * @param key the held-back resource's key ({@code node/TYPE/name})
 * @param change what is held back: an upsert of a new version, or a removal
 * @param reason e.g. {@code "LISTENER l1 references ROUTE r9, which is not in the snapshot"}
 */
public record HeldBack(String key, Change change, String reason) {

  /** The kind of change held back. */
  public enum Change { UPSERT, REMOVAL }
}
