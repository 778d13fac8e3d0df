package dev.lattice.dataplane.identity;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Picks and starts the proxy's {@link WorkloadIdentitySource} from how it was configured: the node agent's
 * Delegated Identity API when an agent admin socket is named (the default in a node), PEM files in file mode,
 * or none. Stateless.
 */
public final class IdentitySources {
  private IdentitySources() {}

  /**
   * Where the proxy's SVIDs come from.
   *
   * @param agentSocket the node agent's admin socket ({@code agent.delegated.socket}), or null for none
   * @param workloads the selectors of each workload of this node to subscribe for (agent mode)
   * @param svidFiles SVID files (file mode)
   * @param bundleFiles trust domain → CA file (file mode)
   * @param firstSnapshotTimeout how long the agent has to answer before start fails
   */
  public record Settings(Path agentSocket, List<WorkloadSelectors> workloads, List<FileIdentitySource.SvidFiles> svidFiles,
      Map<String, Path> bundleFiles, Duration firstSnapshotTimeout) {
    public Settings {
      workloads = List.copyOf(workloads);
      svidFiles = List.copyOf(svidFiles);
      bundleFiles = Map.copyOf(bundleFiles);
      Objects.requireNonNull(firstSnapshotTimeout, "firstSnapshotTimeout");
      if (agentSocket != null && (!svidFiles.isEmpty() || !bundleFiles.isEmpty())) {
        throw new IllegalArgumentException("identity: both an agent socket (" + agentSocket
            + ") and SVID/bundle files (expected: one source, --agent-socket or --svid/--bundle)");
      }
      if (agentSocket == null && !workloads.isEmpty()) {
        throw new IllegalArgumentException("identity: workload selectors " + workloads
            + " without an agent socket (expected: --agent-socket <admin.sock> with --workload)");
      }
    }
  }

  /**
   * Starts the source {@code settings} name: completes with the delegated client once the agent sent the bundles
   * and every workload's SVIDs, with the file source once its files are read, or with null when neither is
   * configured. Fails with the agent's refusal, with a timeout naming the socket, or naming the unreadable file;
   * a source that failed to start is closed. The caller closes the source it gets (after the proxy).
   */
  public static Future<WorkloadIdentitySource> start(Vertx vertx, Settings settings, Clock clock) {
    if (settings.agentSocket() != null) {
      return delegated(vertx, settings, clock);
    }
    if (settings.svidFiles().isEmpty() && settings.bundleFiles().isEmpty()) {
      return Future.succeededFuture(null);
    }
    // reads files: not on an event loop
    return vertx.executeBlocking(() -> FileIdentitySource.load(settings.svidFiles(), settings.bundleFiles()));
  }

  private static Future<WorkloadIdentitySource> delegated(Vertx vertx, Settings settings, Clock clock) {
    DelegatedIdentityClient client = DelegatedIdentityClient.start(vertx,
        DelegatedIdentityClient.Settings.defaults(settings.agentSocket()), clock, settings.workloads());
    Promise<WorkloadIdentitySource> started = Promise.promise();
    long timer = vertx.setTimer(Math.max(1, settings.firstSnapshotTimeout().toMillis()), id -> {
      if (started.tryFail(new IllegalStateException("node agent at " + settings.agentSocket() + ": no SVIDs and bundles within "
          + settings.firstSnapshotTimeout() + " (is the agent running and serving agent.delegated.socket there?)"))) {
        client.close();
      }
    });
    client.firstSnapshot().whenComplete((snapshot, err) -> {
      vertx.cancelTimer(timer);
      if (err == null) {
        started.tryComplete(client);
      } else if (started.tryFail(err instanceof java.util.concurrent.CompletionException && err.getCause() != null
          ? err.getCause() : err)) {
        client.close();
      }
    });
    return started.future();
  }
}
