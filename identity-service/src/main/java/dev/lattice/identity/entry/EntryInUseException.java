package dev.lattice.identity.entry;

import java.util.List;

/**
 * A delete refused because other entries hang from the entry: deleting it would leave them with a
 * parent that no longer exists (a node entry's workloads could no longer be served to that node). The
 * REST API answers 409 and names {@link #children()}; {@code ?cascade=true} deletes them too. Immutable.
 */
public final class EntryInUseException extends RuntimeException {

  private final String entryId;
  private final List<RegistrationEntryRecord> children;

  public EntryInUseException(String entryId, String spiffeId, List<RegistrationEntryRecord> children) {
    super("entry: '" + entryId + "' (" + spiffeId + ") is the parent of " + children.size() + " "
        + (children.size() == 1 ? "entry" : "entries") + " " + children.stream().map(RegistrationEntryRecord::id).toList()
        + " (expected: delete those first, or delete with cascade to remove them too)");
    this.entryId = entryId;
    this.children = List.copyOf(children);
  }

  /** The entry that was not deleted. */
  public String entryId() {
    return entryId;
  }

  /** The entries whose parent it is, directly or through other children. */
  public List<RegistrationEntryRecord> children() {
    return children;
  }
}
