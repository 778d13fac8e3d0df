package dev.lattice.telemetry.live;

import dev.lattice.events.FlowRecord;
import dev.lattice.kit.topic.Topic;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the newest flow records: a group-less consumer on its own thread, assigned every partition of
 * the flows topic from its end (partitions added later are picked up from their start), handing each
 * decoded batch to a listener. Every instance follows every partition, so any instance serves the whole
 * live view. Bytes it cannot decode are counted and skipped: dead-lettering them is the aggregation
 * topology's job, and it does.
 *
 * <p>Thread-safe; {@link #close()} stops the thread and waits for it.
 */
public final class FlowTail implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(FlowTail.class);
  private static final Duration POLL = Duration.ofMillis(200);
  private static final long PARTITION_REFRESH_NANOS = Duration.ofSeconds(30).toNanos();

  private final Topic<String, FlowRecord> topic;
  private final KafkaConsumer<String, byte[]> consumer;
  private final Consumer<List<FlowRecord>> listener;
  private final Thread thread;
  private final AtomicLong received = new AtomicLong();
  private final AtomicLong undecodable = new AtomicLong();
  private volatile boolean assigned;
  private volatile boolean closed;

  private FlowTail(Topic<String, FlowRecord> topic, Map<String, Object> consumerProps,
      Consumer<List<FlowRecord>> listener) {
    this.topic = topic;
    Map<String, Object> props = new HashMap<>(consumerProps);
    props.remove("group.id");
    // a live view: what is new, not what is committed-only history
    props.put("auto.offset.reset", "latest");
    this.consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
    this.listener = listener;
    this.thread = new Thread(this::run, "telemetry-flow-tail");
    this.thread.setDaemon(true);
  }

  /**
   * Starts following {@code topic}.
   *
   * @param consumerProps consumer properties (its {@code group.id}, if any, is dropped)
   * @param listener called on the tail's thread with each non-empty batch of decoded records
   */
  public static FlowTail start(Topic<String, FlowRecord> topic, Map<String, Object> consumerProps,
      Consumer<List<FlowRecord>> listener) {
    FlowTail tail = new FlowTail(topic, consumerProps, listener);
    tail.thread.start();
    return tail;
  }

  /** Whether the tail has its partitions (flows produced from then on are delivered). */
  public boolean assigned() {
    return assigned;
  }

  /** Records decoded and delivered. */
  public long received() {
    return received.get();
  }

  /** Records skipped because their bytes do not decode as a FlowRecord. */
  public long undecodable() {
    return undecodable.get();
  }

  private void run() {
    Map<TopicPartition, Boolean> known = new HashMap<>();
    long refreshedAt = System.nanoTime() - PARTITION_REFRESH_NANOS;
    try {
      while (!closed) {
        if (System.nanoTime() - refreshedAt >= PARTITION_REFRESH_NANOS || known.isEmpty()) {
          refreshedAt = System.nanoTime();
          refreshPartitions(known);
          if (known.isEmpty()) {
            Thread.sleep(POLL.toMillis());
            continue;
          }
        }
        ConsumerRecords<String, byte[]> records = consumer.poll(POLL);
        if (records.isEmpty()) {
          continue;
        }
        List<FlowRecord> batch = new ArrayList<>(records.count());
        for (ConsumerRecord<String, byte[]> r : records) {
          try {
            batch.add(topic.valueSerde().deserializer().deserialize(topic.name(), r.value()));
          } catch (RuntimeException e) {
            undecodable.incrementAndGet();
            LOG.debug("skipping undecodable flow at {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), e.toString());
          }
        }
        if (!batch.isEmpty()) {
          received.addAndGet(batch.size());
          listener.accept(batch);
        }
      }
    } catch (WakeupException | InterruptedException e) {
      // closing
    } catch (RuntimeException e) {
      if (!closed) {
        LOG.error("flow tail stopped: {}", e.toString(), e);
      }
    } finally {
      consumer.close(Duration.ofSeconds(5));
    }
  }

  private void refreshPartitions(Map<TopicPartition, Boolean> known) {
    List<PartitionInfo> infos;
    try {
      infos = consumer.partitionsFor(topic.name(), Duration.ofSeconds(5));
    } catch (org.apache.kafka.common.errors.TimeoutException e) {
      return; // Kafka away: try again at the next refresh
    }
    if (infos == null || infos.isEmpty()) {
      return;
    }
    List<TopicPartition> fresh = new ArrayList<>();
    for (PartitionInfo p : infos) {
      TopicPartition tp = new TopicPartition(p.topic(), p.partition());
      if (known.putIfAbsent(tp, Boolean.TRUE) == null) {
        fresh.add(tp);
      }
    }
    if (fresh.isEmpty()) {
      return;
    }
    boolean first = !assigned;
    consumer.assign(List.copyOf(known.keySet()));
    if (first) {
      consumer.seekToEnd(fresh);
      // resolve the end offsets now, so "assigned" means records produced from here on are seen
      fresh.forEach(consumer::position);
    } else {
      consumer.seekToBeginning(fresh);
    }
    assigned = true;
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
