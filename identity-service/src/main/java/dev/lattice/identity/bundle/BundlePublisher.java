package dev.lattice.identity.bundle;

import dev.lattice.events.TrustBundle;
import dev.lattice.identity.ca.CertificateAuthority;
import dev.lattice.identity.ca.TrustBundleSnapshot;
import dev.lattice.kit.fold.TopicFold;
import dev.lattice.kit.kafka.EventPublisher;
import dev.lattice.kit.topic.Topic;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps {@code lattice.bundles.v1} in step with the CA: every CA change is published as a
 * {@code TrustBundle} event keyed by trust domain (public material only). At start it reads the topic
 * (a {@link TopicFold}) so the bundle sequence never goes backwards: a sequence on the topic above the
 * local one (e.g. a restored data dir) is raised past; a local one above the topic's (a publish lost in a
 * crash) is published. Thread-safe; does not own the fold or the publisher.
 */
public final class BundlePublisher {

  private static final Logger log = LoggerFactory.getLogger(BundlePublisher.class);

  private final Vertx vertx;
  private final CertificateAuthority ca;
  private final EventPublisher publisher;
  private final Topic<String, TrustBundle> topic;
  private final TopicFold<TrustBundle> fold;
  private final AtomicBoolean inSync = new AtomicBoolean();

  public BundlePublisher(Vertx vertx, CertificateAuthority ca, EventPublisher publisher, Topic<String, TrustBundle> topic,
      TopicFold<TrustBundle> fold) {
    this.vertx = vertx;
    this.ca = ca;
    this.publisher = publisher;
    this.topic = topic;
    this.fold = fold;
  }

  /** True once the topic holds the CA's current bundle. */
  public boolean inSync() {
    return inSync.get();
  }

  /** Waits for the fold, reconciles the sequence, publishes if needed, then follows CA changes. */
  public Future<Void> start() {
    ca.onBundleChange(b -> publish(b));
    return Future.fromCompletionStage(fold.whenCaughtUp(), vertx.getOrCreateContext()).compose(v -> {
      long seen = fold.get(ca.trustDomain().getName()).map(TrustBundle::getSequence).orElse(0L);
      long mine = ca.bundle().sequence();
      if (seen > mine) {
        log.warn("bundle sequence on {} is {} but the local CA state says {}: continuing from {}", topic.name(),
            seen, mine, seen + 1);
        return vertx.executeBlocking(() -> {
          ca.raiseSequence(seen + 1); // fires the listener, which publishes
          return null;
        }, false).mapEmpty();
      }
      if (seen < mine) {
        return publish(ca.bundle());
      }
      inSync.set(true);
      return Future.succeededFuture();
    });
  }

  private Future<Void> publish(TrustBundleSnapshot bundle) {
    TrustBundle event = BundleEvents.toEvent(ca.authorities(), bundle, ca.clock().instant());
    return publisher.publish(topic, bundle.trustDomain().getName(), event)
        .onSuccess(md -> {
          inSync.set(true);
          log.info("TrustBundle {} sequence {} published to {}", bundle.trustDomain(), bundle.sequence(), topic.name());
        })
        .onFailure(e -> log.error("TrustBundle sequence {} not published: {}", bundle.sequence(), e.toString()))
        .mapEmpty();
  }
}
