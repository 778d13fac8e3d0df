package dev.lattice.configclient;

import io.vertx.core.Future;

/**
 * Applies a new snapshot on the node (the data plane swaps its config). A succeeded future ACKs the
 * response that led to it; a failed one NACKs it with the failure's message and the client keeps the
 * previous snapshot. Called on the client's Vert.x context, one snapshot at a time: do not block.
 */
@FunctionalInterface
public interface ConfigListener {

  Future<Void> onSnapshot(ConfigSnapshot snapshot);
}
