package dev.lattice.policy.api;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.DescribeConfigsOptions;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The largest record the resources topic takes, checked at admission so an oversized resource is a
 * clear 413 rather than a failed write: the smaller of the topic's {@code max.message.bytes} (read from
 * the broker, at most once per refresh interval, in the background) and the producer's
 * {@code max.request.size}. A record counts its key, its value and {@link #RECORD_OVERHEAD_BYTES} of
 * framing, uncompressed (compression may shrink it on the wire, but the producer checks the uncompressed
 * size against {@code max.request.size}).
 *
 * <p>Thread-safe; {@link #current()} never blocks. The creator closes it (closes the admin client).
 */
public final class RecordSizeLimit implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RecordSizeLimit.class);

  /** Record batch header (61 bytes) plus record framing and headers, rounded up. */
  public static final int RECORD_OVERHEAD_BYTES = 128;
  /** Kafka's default {@code max.request.size}. */
  public static final int DEFAULT_MAX_REQUEST_SIZE = 1_048_576;

  private final Admin admin;
  private final String topic;
  private final long producerLimit;
  private final Clock clock;
  private final Duration refreshInterval;
  private final AtomicBoolean lookingUp = new AtomicBoolean();
  private volatile Long topicLimit;
  private volatile Instant checkedAt = Instant.MIN;

  /**
   * @param admin closed by {@link #close()}; null for no topic lookup (the producer's limit alone)
   * @param producerConfig the producer's properties (for {@code max.request.size})
   */
  public RecordSizeLimit(Admin admin, String topic, Map<String, Object> producerConfig, Clock clock, Duration refreshInterval) {
    this.admin = admin;
    this.topic = topic;
    Object max = producerConfig.get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
    this.producerLimit = max == null ? DEFAULT_MAX_REQUEST_SIZE : Long.parseLong(max.toString());
    this.clock = clock;
    this.refreshInterval = refreshInterval;
  }

  /** The topic this limit is for. */
  public String topic() {
    return topic;
  }

  /**
   * The limit in bytes: at once from what is known; the first call (and a call after the refresh
   * interval) asks the broker — the first waits for its answer (at most 1 s, so writes with Kafka away still fail fast), later ones don't.
   * Never fails: without the topic's setting the producer's limit stands.
   */
  public Future<Long> current(Vertx vertx) {
    Long known = topicLimit;
    if (clock.instant().isAfter(checkedAt.plus(refreshInterval))) {
      Future<Long> lookup = lookUp(vertx);
      if (known == null) return lookup.map(this::effective);
    }
    return Future.succeededFuture(effective(known));
  }

  private long effective(Long topicMax) {
    return topicMax == null ? producerLimit : Math.min(topicMax, producerLimit);
  }

  private Future<Long> lookUp(Vertx vertx) {
    if (admin == null || !lookingUp.compareAndSet(false, true)) return Future.succeededFuture(topicLimit);
    ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    return Future.fromCompletionStage(admin.describeConfigs(List.of(resource), new DescribeConfigsOptions().timeoutMs(1_000))
            .all().toCompletionStage(), vertx.getOrCreateContext())
        .map(configs -> {
          Config config = configs.get(resource);
          ConfigEntry entry = config == null ? null : config.get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG);
          if (entry != null && entry.value() != null) topicLimit = Long.parseLong(entry.value());
          checkedAt = clock.instant();
          return topicLimit;
        })
        .recover(err -> {
          LOG.debug("could not read {} of {}: {}", TopicConfig.MAX_MESSAGE_BYTES_CONFIG, topic, err.toString());
          return Future.succeededFuture(topicLimit);
        })
        .eventually(() -> {
          lookingUp.set(false);
          return Future.succeededFuture();
        });
  }

  @Override
  public void close() {
    if (admin != null) admin.close(Duration.ofSeconds(5));
  }
}
