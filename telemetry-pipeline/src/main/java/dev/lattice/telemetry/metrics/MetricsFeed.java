package dev.lattice.telemetry.metrics;

import dev.lattice.events.EdgeMetrics;
import dev.lattice.kit.topic.Topic;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Feeds {@link MeshMetrics} with the closed windows on {@code lattice.metrics.v1}: a consumer in its own group
 * (every pipeline instance joins it, so each counts a share of the partitions and Prometheus sums over
 * instances), {@code read_committed} so an aborted Streams transaction never counts, starting at the end of
 * the topic for a new group (a first start does not replay history into the counters), committing after
 * each batch. Records it cannot decode are counted and skipped (the pipeline writes this topic itself).
 *
 * <p>Thread-safe; {@link #close()} stops the thread and waits for it.
 */
public final class MetricsFeed implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(MetricsFeed.class);
  private static final Duration POLL = Duration.ofMillis(200);

  private final Topic<String, EdgeMetrics> topic;
  private final KafkaConsumer<String, byte[]> consumer;
  private final MeshMetrics metrics;
  private final Thread thread;
  private final AtomicLong undecodable = new AtomicLong();
  private volatile boolean assigned;
  private volatile boolean closed;

  private MetricsFeed(Topic<String, EdgeMetrics> topic, Map<String, Object> consumerProps, MeshMetrics metrics) {
    this.topic = topic;
    Map<String, Object> props = new HashMap<>(consumerProps);
    if (props.get(ConsumerConfig.GROUP_ID_CONFIG) == null) {
      throw new IllegalArgumentException("consumerProps: no group.id (instances share the partitions through it)");
    }
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    this.consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
    this.metrics = metrics;
    this.thread = new Thread(this::run, "telemetry-metrics-feed");
    this.thread.setDaemon(true);
  }

  /**
   * Starts feeding {@code metrics} from {@code topic}.
   *
   * @param consumerProps consumer properties with the feed's {@code group.id}
   */
  public static MetricsFeed start(Topic<String, EdgeMetrics> topic, Map<String, Object> consumerProps,
      MeshMetrics metrics) {
    MetricsFeed feed = new MetricsFeed(topic, consumerProps, metrics);
    feed.thread.start();
    return feed;
  }

  /** Whether the feed holds partitions with resolved positions (windows closed from then on are counted). */
  public boolean assigned() {
    return assigned;
  }

  /** Records skipped because they do not decode as EdgeMetrics. */
  public long undecodable() {
    return undecodable.get();
  }

  private void run() {
    try {
      consumer.subscribe(java.util.List.of(topic.name()), new ConsumerRebalanceListener() {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
          // offsets are committed after each batch; nothing pending here
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
          // resolve positions now, so "assigned" means every window closed from here on is counted
          partitions.forEach(consumer::position);
          assigned = true;
        }
      });
      while (!closed) {
        ConsumerRecords<String, byte[]> records = consumer.poll(POLL);
        if (records.isEmpty()) {
          continue;
        }
        for (ConsumerRecord<String, byte[]> r : records) {
          EdgeMetrics m;
          try {
            m = topic.valueSerde().deserializer().deserialize(topic.name(), r.value());
          } catch (RuntimeException e) {
            undecodable.incrementAndGet();
            LOG.debug("skipping undecodable metrics at {}-{}@{}: {}", r.topic(), r.partition(), r.offset(),
                e.toString());
            continue;
          }
          if (m != null) {
            metrics.add(m);
          }
        }
        consumer.commitAsync();
      }
    } catch (WakeupException e) {
      // closing
    } catch (RuntimeException e) {
      if (!closed) {
        LOG.error("Istio metrics feed stopped: {}", e.toString(), e);
      }
    } finally {
      try {
        consumer.commitSync(Duration.ofSeconds(5));
      } catch (RuntimeException e) {
        LOG.debug("final commit of the metrics feed failed: {}", e.toString());
      }
      consumer.close(Duration.ofSeconds(5));
    }
  }

  @Override
  public void close() {
    closed = true;
    consumer.wakeup();
    try {
      thread.join(Duration.ofSeconds(10).toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
