package dev.lattice.identity.agent.attestor;

import io.vertx.core.Future;
import java.util.Set;

/**
 * Turns a caller process into the selectors that describe it ({@code unix:uid:1000},
 * {@code k8s:ns:default}, …). Implementations are plugged into the agent together; each adds the
 * selectors of its own type.
 *
 * <p>Implementations are thread-safe and never block the calling event loop.
 */
public interface WorkloadAttestor {

  /** The selectors this attestor knows for {@code caller}; empty when it knows nothing about it. */
  Future<Set<Selector>> attest(CallerProcess caller);
}
