package dev.lattice.policy.kubernetes;

import io.fabric8.kubernetes.client.dsl.Informable;
import io.fabric8.kubernetes.client.informers.ExceptionHandler;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts fabric8 informers that never give up on the API server: {@code inform(...)} blocks for the first
 * list and, if that list fails (API server down, RBAC not yet applied), throws and never tries again, so a
 * policy service started a moment before its API server would stay blind. These informers start without
 * blocking and retry the first list and every broken watch with fabric8's backoff; readiness
 * ({@code hasSynced}) stays false until a list succeeds. Only a response the client cannot deserialize
 * stops an informer (retrying it would fail the same way), with an error in the log.
 */
final class RetryingInformers {

  private static final Logger LOG = LoggerFactory.getLogger(RetryingInformers.class);

  private RetryingInformers() {}

  /** Starts an informer on {@code source} (resync off) and returns it at once. */
  static <T> SharedIndexInformer<T> start(Informable<T> source, ResourceEventHandler<? super T> handler, String what) {
    SharedIndexInformer<T> informer = source.runnableInformer(0);
    informer.addEventHandler(handler);
    AtomicBoolean warned = new AtomicBoolean();
    informer.exceptionHandler((started, failure) -> retry(what, started, failure, warned));
    informer.start().whenComplete((ok, failure) -> {
      if (failure == null && warned.get()) LOG.info("{} informer listed after retrying", what);
    });
    return informer;
  }

  /**
   * The informer's exception policy (package-visible for its test). One WARN per informer: fabric8's
   * Reflector logs every retry itself.
   */
  static boolean retry(String what, boolean started, Throwable failure, AtomicBoolean warned) {
    if (ExceptionHandler.isDeserializationException(failure)) {
      LOG.error("{} informer stopped: the API server's answer does not deserialize ({})", what, failure.toString());
      return false;
    }
    if (warned.compareAndSet(false, true)) {
      LOG.warn("{} informer: {} failed, retrying with backoff until the API server answers: {}", what,
          started ? "watch" : "first list", failure.toString());
    }
    return true;
  }
}
