package dev.lattice.identity.entry;

/** A registration entry command that breaks a rule; the message names what was seen and expected. */
public final class EntryValidationException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public EntryValidationException(String message) {
    super(message);
  }
}
