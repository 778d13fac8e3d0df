package dev.lattice.dataplane.identity;

import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * Where the proxy gets its workloads' SVIDs and trust bundles: the node agent's Delegated Identity API
 * in a node, PEM files in standalone/file mode. Thread-safe. Listeners run on the source's own thread
 * and must not block; each gets every snapshot after the one it was added at, in revision order.
 * New TLS handshakes use {@link #current()}; established connections are never torn down by a change.
 * The creator closes it.
 */
public interface WorkloadIdentitySource extends AutoCloseable {

  /** The latest snapshot ({@link IdentitySnapshot#empty()} before the first update). */
  IdentitySnapshot current();

  /** Completes with the first non-empty snapshot (or fails if the source cannot start). */
  CompletionStage<IdentitySnapshot> firstSnapshot();

  /** Calls {@code listener} with every later snapshot. */
  void addListener(Consumer<IdentitySnapshot> listener);

  /** Stops updates and releases the source's connections; idempotent. */
  @Override
  void close();
}
