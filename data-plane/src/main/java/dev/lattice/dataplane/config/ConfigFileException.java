package dev.lattice.dataplane.config;

/** A proxy config file that cannot be used: the message names the file position or field and what was expected. */
public final class ConfigFileException extends RuntimeException {
  public ConfigFileException(String message) {
    super(message);
  }

  public ConfigFileException(String message, Throwable cause) {
    super(message, cause);
  }
}
