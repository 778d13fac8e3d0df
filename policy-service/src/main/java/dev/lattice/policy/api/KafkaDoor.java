package dev.lattice.policy.api;

import dev.lattice.events.ResourceEvent;
import dev.lattice.events.ResourceRejected;
import dev.lattice.kit.deadletter.DeadLetterPublisher;
import dev.lattice.kit.topic.Topic;
import dev.lattice.policy.model.Resource;
import dev.lattice.policy.model.ResourceEventMapper;
import dev.lattice.policy.model.ResourceValidator;
import dev.lattice.policy.model.ValidationIssue;
import dev.lattice.policy.model.ValidationReport;
import dev.lattice.schemas.serde.UndecodableEventException;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kafka door: checks every record users publish straight to {@code lattice.resources.v1}.
 *
 * <ul>
 *   <li>Bytes that are not a {@code ResourceEvent} go to {@code lattice.resources.v1.dlq} with the
 *       reason (the original bytes unchanged); the door moves on.</li>
 *   <li>An event that is not compilable ({@link ResourceValidator#isCompilable}: inconsistent kind/spec
 *       or a validation error) is recorded on {@code lattice.resources.rejected.v1} as a
 *       {@link ResourceRejected} with the reason, the field path and the original bytes. The record is
 *       <em>not</em> tombstoned: the compiler and the service's own state skip non-compilable records and
 *       keep the last valid version of the resource.</li>
 *   <li>Tombstones and valid events need nothing.</li>
 * </ul>
 *
 * Runs on its own thread with its own consumer group (one check per record across service instances);
 * offsets are committed after the batch's rejections and dead letters were acknowledged (at least
 * once; a batch checked again writes no second dead letter: they carry the door's group and
 * {@link DeadLetterPublisher} skips offsets the group already dead-lettered). The resources fold and
 * the compiler dead-letter the same garbage under their own names: each of them skipped it. A broker outage only pauses it. Thread-safe; the creator closes it (bounded).
 */
public final class KafkaDoor implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaDoor.class);

  private final Topic<String, ResourceEvent> resources;
  private final Topic<String, ResourceRejected> rejected;
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final KafkaProducer<byte[], byte[]> producer;
  private final DeadLetterPublisher deadLetters;
  private final String group;
  private final Clock clock;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicLong rejectedCount = new AtomicLong();
  private final AtomicLong deadLettered = new AtomicLong();
  private final AtomicLong checked = new AtomicLong();
  private final Thread thread;

  /**
   * @param consumerConfig consumer properties with bootstrap servers and the door's group id
   * @param producerConfig producer properties for rejected records
   * @param deadLetters shared dead-letter publisher, owned by the caller
   */
  public KafkaDoor(Topic<String, ResourceEvent> resources, Topic<String, ResourceRejected> rejected,
      Map<String, Object> consumerConfig, Map<String, Object> producerConfig, DeadLetterPublisher deadLetters, Clock clock) {
    this.resources = resources;
    this.rejected = rejected;
    Map<String, Object> cc = new java.util.HashMap<>(consumerConfig);
    cc.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    cc.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    this.group = String.valueOf(cc.get(ConsumerConfig.GROUP_ID_CONFIG));
    if (cc.get(ConsumerConfig.GROUP_ID_CONFIG) == null) {
      throw new IllegalArgumentException("consumerConfig: the door needs a group.id");
    }
    this.consumer = new KafkaConsumer<>(cc, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    this.producer = new KafkaProducer<>(producerConfig, new ByteArraySerializer(), new ByteArraySerializer());
    this.deadLetters = deadLetters;
    this.clock = clock;
    this.thread = new Thread(this::run, "lattice-policy-kafka-door");
    this.thread.setDaemon(true);
  }

  /** Starts the door thread; returns at once. */
  public KafkaDoor start() {
    thread.start();
    return this;
  }

  public long rejectedCount() {
    return rejectedCount.get();
  }

  public long deadLetteredCount() {
    return deadLettered.get();
  }

  public long checkedCount() {
    return checked.get();
  }

  private void run() {
    try {
      consumer.subscribe(List.of(resources.name()));
      while (!closed.get()) {
        ConsumerRecords<byte[], byte[]> batch;
        try {
          batch = consumer.poll(Duration.ofMillis(500));
        } catch (WakeupException e) {
          break;
        } catch (RuntimeException e) {
          LOG.warn("kafka door: poll failed, retrying: {}", e.toString());
          sleepQuietly(1000);
          continue;
        }
        if (batch.isEmpty()) continue;
        List<CompletableFuture<?>> sends = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> record : batch) {
          try {
            check(record, sends);
          } catch (RuntimeException e) {
            LOG.error("kafka door: unexpected failure on {}-{}@{}; dead-lettering it", record.topic(), record.partition(), record.offset(), e);
            sends.add(deadLetters.publish(record, group, "policy service could not check the record: " + e, e));
          }
          checked.incrementAndGet();
        }
        try {
          CompletableFuture.allOf(sends.toArray(new CompletableFuture[0])).get(60, TimeUnit.SECONDS);
          consumer.commitSync();
        } catch (WakeupException e) {
          break;
        } catch (Exception e) {
          // Not committed: the batch is checked again after a restart or rebalance (at least once).
          LOG.warn("kafka door: could not record rejections/commit, will re-check: {}", e.toString());
        }
      }
    } catch (WakeupException e) {
      // closing
    } catch (RuntimeException e) {
      LOG.error("kafka door stopped", e);
    } finally {
      consumer.close(Duration.ofSeconds(5));
    }
  }

  private void check(ConsumerRecord<byte[], byte[]> record, List<CompletableFuture<?>> sends) {
    if (record.value() == null) return; // tombstone: a delete needs no validation
    ResourceEvent event;
    try {
      event = resources.valueSerde().deserializer().deserialize(record.topic(), record.value());
    } catch (UndecodableEventException e) {
      deadLettered.incrementAndGet();
      sends.add(deadLetters.publish(record, group, e.getMessage(), e));
      return;
    } catch (RuntimeException e) {
      deadLettered.incrementAndGet();
      sends.add(deadLetters.publish(record, group, "not a ResourceEvent: " + e.getMessage(), e));
      return;
    }
    String key = record.key() == null ? null : new String(record.key(), java.nio.charset.StandardCharsets.UTF_8);
    String reason;
    String path = null;
    Resource resource;
    try {
      resource = ResourceEventMapper.toResource(event);
    } catch (RuntimeException e) {
      reject(record, key, event, String.valueOf(e.getMessage()), pathOf(e.getMessage()), sends);
      return;
    }
    String expectedKey = resource.key().asString();
    if (key != null && !key.equals(expectedKey)) {
      reject(record, key, event, "record key \"" + key + "\" does not match the resource (expected: " + expectedKey + ")", "metadata", sends);
      return;
    }
    ValidationReport report = ResourceValidator.validate(resource);
    if (report.valid()) return;
    ValidationIssue first = report.firstError();
    reason = report.errors().size() == 1 ? first.toString()
        : first + " (and " + (report.errors().size() - 1) + " more: "
            + String.join("; ", report.errors().subList(1, report.errors().size()).stream().map(ValidationIssue::toString).toList()) + ")";
    path = first.path();
    reject(record, key, event, reason, path, sends);
  }

  private static String pathOf(String message) {
    if (message == null) return null;
    int colon = message.indexOf(':');
    return colon > 0 && !message.substring(0, colon).contains(" ") ? message.substring(0, colon) : null;
  }

  private void reject(ConsumerRecord<byte[], byte[]> record, String key, ResourceEvent event, String reason, String path,
      List<CompletableFuture<?>> sends) {
    rejectedCount.incrementAndGet();
    LOG.warn("kafka door: rejected {} ({}-{}@{}): {}", key, record.topic(), record.partition(), record.offset(), reason);
    ResourceRejected r = ResourceRejected.newBuilder()
        .setKey(key == null ? "" : key)
        .setOriginal(ByteBuffer.wrap(record.value()))
        .setReason(reason)
        .setFieldPath(path)
        .setSource(event == null ? null : event.getSource())
        .setAuthor(event == null ? null : event.getAuthor())
        .setSourceTopic(record.topic())
        .setSourcePartition(record.partition())
        .setSourceOffset(record.offset())
        .setRejectedAt(clock.instant())
        .build();
    byte[] value = rejected.valueSerde().serializer().serialize(rejected.name(), r);
    CompletableFuture<Object> f = new CompletableFuture<>();
    producer.send(new ProducerRecord<>(rejected.name(), record.key(), value), (md, err) -> {
      if (err != null) f.completeExceptionally(err);
      else f.complete(md);
    });
    sends.add(f);
  }

  private static void sleepQuietly(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Stops the thread (at most ~10 s) and closes the clients. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) return;
    consumer.wakeup();
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    producer.close(Duration.ofSeconds(5));
  }
}
