package dev.lattice.cli.support;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * What a subcommand may ask of the root {@code lattice} command: the global options, the environment,
 * the service endpoints, the HTTP client and the admin credential. {@code LatticeCli} implements it;
 * subcommands depend on this interface only, so the root command (which lists them) and the
 * subcommands do not depend on each other.
 */
public interface CliContext {

  /** Where the local stack keeps its data and endpoints file ({@code --data-dir}). */
  Path dataDir();

  /** Connect and request timeout per call ({@code --timeout}). */
  Duration timeout();

  /** {@code --verbose}. */
  boolean verbose();

  /** The process environment (or the one a test handed in). */
  Map<String, String> env();

  /** The endpoints of the services (resolved once per invocation). */
  ServiceEndpoints endpoints();

  /** The shared HTTP client; it sends the admin credential when one is found. */
  ApiClient apiClient();

  /** The clock ages are counted on (the system clock). */
  default java.time.Clock clock() {
    return java.time.Clock.systemUTC();
  }

  /** The admin credential the CLI sends, if it found one (see docs/operations.md#admin-credential). */
  Optional<String> adminToken();
}
