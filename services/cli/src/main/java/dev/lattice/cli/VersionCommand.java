package dev.lattice.cli;

import dev.lattice.cli.support.ApiCommand;
import dev.lattice.cli.support.ExitCode;
import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;

/** {@code lattice version}: the Lattice version this CLI was built as, and the Java runtime. */
@Command(name = "version", description = "Print the Lattice version and the Java runtime.")
final class VersionCommand extends ApiCommand {

  @Override
  protected int run() {
    out().println("lattice " + version());
    out().println("java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")");
    out().flush();
    return ExitCode.OK;
  }

  /** The version from the build ({@code lattice-version.properties}, filtered by Maven). */
  static String version() {
    Properties props = new Properties();
    try (InputStream in = VersionCommand.class.getResourceAsStream("/lattice-version.properties")) {
      if (in != null) props.load(in);
    } catch (IOException e) {
      return "unknown";
    }
    return props.getProperty("version", "unknown");
  }

  /** Feeds {@code lattice --version}. */
  static final class Provider implements IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"lattice " + version()};
    }
  }
}
