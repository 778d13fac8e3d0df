package dev.lattice.policy.api;

import dev.lattice.policy.model.Resource;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * The seam through which a dry-run apply shows the compiled configuration a change would cause. The
 * compiler side implements it (e.g. compile the current state with and without the change and diff the
 * per-node resources); the default reports that no preview is available. Implementations must not
 * block the event loop (return a future).
 */
@FunctionalInterface
public interface ChangePreview {

  /** No preview: dry-run answers validation and resource-level changes only. */
  ChangePreview NONE = (proposed, deleted) -> Future.succeededFuture(null);

  /**
   * The compiled-config diff of applying {@code proposed} and deleting {@code deleted}, as JSON (e.g.
   * {@code {"changed": [...], "removed": [...]}}), or null when not available.
   */
  Future<JsonObject> preview(List<Resource> proposed, List<Resource> deleted);
}
