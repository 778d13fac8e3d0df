package dev.lattice.dataplane.telemetry;

import dev.lattice.events.FlowRecord;
import dev.lattice.kit.topic.Topic;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ships flow records to {@code lattice.flows.v1} in batches from a bounded buffer, so the data path never
 * waits on Kafka. {@link #offer} only tries to enqueue: when the buffer is full (the broker is slow or
 * away) the record is dropped and counted. One sender thread drains the buffer in batches, encodes and
 * hands records to the producer; the producer's own bounded memory ({@code buffer.memory},
 * {@code max.block.ms}, {@code delivery.timeout.ms}) bounds what is in flight, and failed deliveries are
 * counted too. Nothing here throws at the caller or retries forever.
 *
 * <p>Thread-safe: any event loop may offer. The creator closes it; {@link #close(Duration)} is bounded.
 */
public final class FlowExporter implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(FlowExporter.class);

  /**
   * Sizing.
   *
   * @param capacity records the buffer holds
   * @param batchSize records the sender drains per round
   * @param linger how long the sender waits for a record when the buffer is empty
   */
  public record Options(int capacity, int batchSize, Duration linger) {
    /** 64k records, batches of 512, 50 ms. */
    public static final Options DEFAULTS = new Options(65_536, 512, Duration.ofMillis(50));

    public Options {
      if (capacity < 1) {
        throw new IllegalArgumentException("capacity: " + capacity + " (expected: >= 1)");
      }
      if (batchSize < 1) {
        throw new IllegalArgumentException("batchSize: " + batchSize + " (expected: >= 1)");
      }
      Objects.requireNonNull(linger, "linger");
    }
  }

  /**
   * Counters at one moment.
   *
   * @param accepted records taken into the buffer
   * @param droppedBufferFull records refused because the buffer was full (or the exporter closed)
   * @param sent records the broker acknowledged
   * @param failed records the producer could not deliver (encode error, timeout, broker away)
   * @param buffered records waiting in the buffer now
   */
  public record Stats(long accepted, long droppedBufferFull, long sent, long failed, int buffered) {
    /** Everything that was lost: refused plus failed. */
    public long dropped() {
      return droppedBufferFull + failed;
    }
  }

  private final Producer<byte[], byte[]> producer;
  private final Topic<String, FlowRecord> topic;
  private final Options options;
  private final ArrayBlockingQueue<FlowObservation> buffer;
  private final LongAdder accepted = new LongAdder();
  private final LongAdder droppedFull = new LongAdder();
  private final LongAdder sent = new LongAdder();
  private final LongAdder failed = new LongAdder();
  private final Thread sender;
  private volatile boolean closed;
  /** Set once close has counted everything not delivered: later callbacks must not count a record twice. */
  private volatile boolean settled;
  private volatile long lastFailureLog;

  /**
   * Producer settings that keep a broker outage bounded for flow records, laid over the service's
   * producer config: the sender blocks at most 1 s on metadata or a full producer buffer (8 MiB), a record
   * is given up after 30 s, batches linger 20 ms and are lz4-compressed.
   */
  public static java.util.Map<String, Object> producerTuning() {
    return java.util.Map.of(
        "max.block.ms", 1_000,
        "buffer.memory", 8L * 1024 * 1024,
        "delivery.timeout.ms", 30_000,
        "request.timeout.ms", 10_000,
        "linger.ms", 20,
        "compression.type", "lz4");
  }

  /**
   * An exporter to {@code lattice.flows.v1} with the service's idempotent producer settings,
   * {@link #producerTuning()} on top and {@code kafka.producer.*} overrides over both; starts its sender thread.
   */
  public static FlowExporter toFlowsTopic(dev.lattice.kit.kafka.KafkaClientConfig kafka, Options options) {
    // the tuning as this client's defaults: an operator's kafka.producer.* (e.g. delivery.timeout.ms) still wins
    java.util.Map<String, Object> props = kafka.producer("flows", producerTuning());
    return new FlowExporter(new org.apache.kafka.clients.producer.KafkaProducer<>(props,
        new org.apache.kafka.common.serialization.ByteArraySerializer(),
        new org.apache.kafka.common.serialization.ByteArraySerializer()), dev.lattice.kit.topic.LatticeTopics.FLOWS, options);
  }

  /** Starts the sender thread; this exporter owns {@code producer} and closes it. */
  public FlowExporter(Producer<byte[], byte[]> producer, Topic<String, FlowRecord> topic, Options options) {
    this.producer = Objects.requireNonNull(producer, "producer");
    this.topic = Objects.requireNonNull(topic, "topic");
    this.options = Objects.requireNonNull(options, "options");
    this.buffer = new ArrayBlockingQueue<>(options.capacity());
    this.sender = new Thread(this::run, "lattice-flow-exporter");
    sender.setDaemon(true);
    sender.start();
  }

  /**
   * Enqueues a finished observation without waiting; the exporter owns it from now on (the caller must
   * not change it again).
   *
   * @return {@code false} when it was dropped (buffer full or exporter closed), counted in
   *     {@link Stats#droppedBufferFull()}
   */
  public boolean offer(FlowObservation observation) {
    if (!closed && buffer.offer(observation)) {
      accepted.increment();
      return true;
    }
    droppedFull.increment();
    return false;
  }

  /** Current counters. */
  public Stats stats() {
    return new Stats(accepted.sum(), droppedFull.sum(), sent.sum(), failed.sum(), buffer.size());
  }

  private void run() {
    List<FlowObservation> batch = new ArrayList<>(options.batchSize());
    long lingerNanos = options.linger().toNanos();
    while ((!closed || !buffer.isEmpty()) && !settled) {
      try {
        FlowObservation first = buffer.poll(lingerNanos, TimeUnit.NANOSECONDS);
        if (first == null) {
          continue;
        }
        batch.add(first);
        buffer.drainTo(batch, options.batchSize() - 1);
        for (FlowObservation o : batch) {
          if (settled) {
            break;
          }
          send(o);
        }
      } catch (InterruptedException e) {
        break;
      } finally {
        batch.clear();
      }
    }
  }

  private void send(FlowObservation o) {
    try {
      String key = o.key();
      byte[] k = topic.keySerde().serializer().serialize(topic.name(), key);
      byte[] v = topic.valueSerde().serializer().serialize(topic.name(), o.toFlowRecord());
      producer.send(new ProducerRecord<>(topic.name(), k, v), (metadata, error) -> {
        if (settled) {
          return;
        }
        if (error == null) {
          sent.increment();
        } else {
          fail(error);
        }
      });
    } catch (RuntimeException e) {
      // max.block.ms elapsed (broker away, producer memory full), an encoding error, or a closed producer
      fail(e);
    }
  }

  private void fail(Throwable error) {
    if (settled) {
      return;
    }
    failed.increment();
    long now = System.nanoTime();
    if (now - lastFailureLog > TimeUnit.SECONDS.toNanos(30)) {
      lastFailureLog = now;
      LOG.warn("flow records are being dropped ({} so far): {}", failed.sum(), error.toString());
    }
  }

  /** {@link #close(Duration)} with 5 seconds. */
  @Override
  public void close() {
    close(Duration.ofSeconds(5));
  }

  /**
   * Stops accepting, gives the sender {@code timeout} to hand over what is buffered and the producer the
   * rest of it to deliver; every accepted record not acknowledged by then is counted as failed, so
   * afterwards {@code accepted == sent + failed}. Blocking: call it from a worker, not an event loop.
   * Idempotent.
   */
  public synchronized void close(Duration timeout) {
    if (closed) {
      return;
    }
    closed = true;
    long deadline = System.nanoTime() + timeout.toNanos();
    join(timeout.toMillis());
    try {
      // a forced close fails the producer's unsent batches through their callbacks before it returns
      producer.close(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
    } catch (RuntimeException e) {
      LOG.warn("flow exporter: producer close failed: {}", e.toString());
    }
    if (sender.isAlive()) {
      // still handing records to a closed producer (each send now fails at once)
      sender.interrupt();
      join(1_000);
    }
    buffer.clear();
    settled = true;
    // records the sender had drained but not handed over, or whose callbacks never ran, are lost too
    long unaccounted = accepted.sum() - sent.sum() - failed.sum();
    if (unaccounted > 0) {
      failed.add(unaccounted);
    }
  }

  private void join(long millis) {
    try {
      sender.join(Math.max(1, millis));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
