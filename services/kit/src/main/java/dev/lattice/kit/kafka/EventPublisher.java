package dev.lattice.kit.kafka;

import dev.lattice.kit.topic.Topic;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes events to Kafka from Vert.x code without blocking the event loop.
 *
 * <p>{@code KafkaProducer.send} can block for up to {@code max.block.ms} (metadata fetch, full buffer),
 * so every send, serialization included, runs on this publisher's own single sender thread, in call
 * order (records for one partition keep their order). The returned future completes on the caller's
 * Vert.x context once the broker acknowledged the record (idempotent, {@code acks=all}) or the send
 * failed. At most {@code maxPending} sends wait for the thread; beyond that a publish fails at once with
 * a clear message instead of queueing without bound.
 *
 * <p>Kafka away: a publisher made {@link #forRequests} asks its {@link KafkaAvailability} before every
 * send and fails at once with {@link KafkaUnavailableException} while the broker is known to be away,
 * and its producer has bounded timeouts ({@link KafkaClientConfig#requestProducer}); on top, every
 * publish answers within {@link KafkaClientConfig#REQUEST_ANSWER_TIMEOUT_MS} (a send still queued or in
 * the producer then fails with an outcome-unknown {@link KafkaUnavailableException}), so an API write
 * answers within two seconds either way. Every publisher reports a timeout or network failure as
 * a {@link KafkaUnavailableException} (cause: the producer's exception) and tells its availability.
 *
 * <p>Thread-safe. The creator closes it with {@link #close()}, which flushes what is queued, waits a
 * bounded time and releases the producer.
 */
public final class EventPublisher {

  private static final Logger LOG = LoggerFactory.getLogger(EventPublisher.class);
  /** Default bound of sends waiting for the sender thread. */
  public static final int DEFAULT_MAX_PENDING = 10_000;
  /** Default bound of {@link #close()}. */
  public static final Duration DEFAULT_CLOSE_TIMEOUT = Duration.ofSeconds(10);

  private final Vertx vertx;
  private final Producer<byte[], byte[]> producer;
  private final String name;
  private final ThreadPoolExecutor sender;
  private final KafkaAvailability availability;
  private volatile Duration answerWithin;
  private final AtomicBoolean closed = new AtomicBoolean();

  /**
   * Wraps a byte-level producer; this publisher owns it from now on and closes it.
   *
   * @param name shown in the sender thread's name and in errors
   * @param maxPending how many sends may wait for the sender thread
   */
  public EventPublisher(Vertx vertx, Producer<byte[], byte[]> producer, String name, int maxPending) {
    this(vertx, producer, name, maxPending, KafkaAvailability.ALWAYS);
  }

  /**
   * Wraps a byte-level producer that sends only while {@code availability} allows it; this publisher
   * owns the producer from now on and closes it (not the availability).
   */
  public EventPublisher(Vertx vertx, Producer<byte[], byte[]> producer, String name, int maxPending,
      KafkaAvailability availability) {
    this.availability = Objects.requireNonNull(availability, "availability");
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.producer = Objects.requireNonNull(producer, "producer");
    this.name = Objects.requireNonNull(name, "name");
    if (maxPending < 1) {
      throw new IllegalArgumentException("maxPending: " + maxPending + " (expected: >= 1)");
    }
    this.sender = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(maxPending),
        r -> {
          Thread t = new Thread(r, "lattice-publisher-" + name);
          t.setDaemon(true);
          return t;
        }, new ThreadPoolExecutor.AbortPolicy());
  }

  /**
   * A publisher with its own idempotent producer from {@code config.producer(clientName)}.
   * Creating a {@link KafkaProducer} does no network I/O, so this is safe on an event loop.
   */
  public static EventPublisher create(Vertx vertx, KafkaClientConfig config, String clientName) {
    Producer<byte[], byte[]> producer = new KafkaProducer<>(config.producer(clientName),
        new ByteArraySerializer(), new ByteArraySerializer());
    return new EventPublisher(vertx, producer, config.serviceName() + "-" + clientName, DEFAULT_MAX_PENDING);
  }

  /**
   * A publisher for writes an API caller waits for: its producer has the bounded timeouts of
   * {@link KafkaClientConfig#requestProducer}, and while {@code availability} reports Kafka away a
   * publish fails at once with {@link KafkaUnavailableException} (nothing is sent). Safe on an event loop.
   */
  public static EventPublisher forRequests(Vertx vertx, KafkaClientConfig config, String clientName,
      KafkaAvailability availability) {
    Producer<byte[], byte[]> producer = new KafkaProducer<>(config.requestProducer(clientName),
        new ByteArraySerializer(), new ByteArraySerializer());
    return new EventPublisher(vertx, producer, config.serviceName() + "-" + clientName, DEFAULT_MAX_PENDING,
        availability).answeringWithin(Duration.ofMillis(KafkaClientConfig.REQUEST_ANSWER_TIMEOUT_MS));
  }

  /**
   * From now on every publish answers within {@code bound}: one not acknowledged by then fails with a
   * {@link KafkaUnavailableException} whose outcome is unknown ({@code sent()} true). Call before use.
   */
  public EventPublisher answeringWithin(Duration bound) {
    if (bound.isNegative() || bound.isZero()) {
      throw new IllegalArgumentException("bound: " + bound + " (expected: > 0)");
    }
    this.answerWithin = bound;
    return this;
  }

  /** Publishes {@code value} under {@code key}; a {@code null} value is a tombstone. */
  public <K, V> Future<RecordMetadata> publish(Topic<K, V> topic, K key, V value) {
    return publish(topic, key, value, null);
  }

  /**
   * Publishes {@code value} under {@code key} with headers; a {@code null} value is a tombstone. The
   * topic's serdes encode on the sender thread; an encoding failure fails the future.
   */
  public <K, V> Future<RecordMetadata> publish(Topic<K, V> topic, K key, V value, Iterable<Header> headers) {
    Objects.requireNonNull(topic, "topic");
    return submit(() -> {
      RecordHeaders h = new RecordHeaders(headers == null ? new Header[0] : toArray(headers));
      byte[] k = key == null ? null : topic.keySerde().serializer().serialize(topic.name(), h, key);
      byte[] v = value == null ? null : topic.valueSerde().serializer().serialize(topic.name(), h, value);
      return new ProducerRecord<>(topic.name(), null, null, k, v, h);
    });
  }

  /** Publishes an already encoded record (e.g. a dead letter built with {@code DeadLetters.record}). */
  public Future<RecordMetadata> publishRaw(ProducerRecord<byte[], byte[]> record) {
    Objects.requireNonNull(record, "record");
    return submit(() -> record);
  }

  /**
   * Connects the producer and fetches the metadata of {@code topics} on the sender thread, so the first
   * write an API caller waits for does not also pay for that (with a request publisher's bounded
   * timeouts it might not fit). Completes either way; a failure is only logged at DEBUG (the monitor
   * reports Kafka's state).
   */
  public Future<Void> connect(Topic<?, ?>... topics) {
    Context context = vertx.getOrCreateContext();
    Promise<Void> promise = Promise.promise();
    try {
      sender.execute(() -> {
        for (Topic<?, ?> topic : topics) {
          try {
            producer.partitionsFor(topic.name());
          } catch (RuntimeException e) {
            LOG.debug("Publisher {}: no metadata for {} yet: {}", name, topic.name(), e.toString());
          }
        }
        context.runOnContext(v -> promise.tryComplete());
      });
    } catch (RejectedExecutionException e) {
      promise.tryComplete();
    }
    return promise.future();
  }

  /** Completes once every record published before this call was acknowledged or failed. */
  public Future<Void> flush() {
    Context context = vertx.getOrCreateContext();
    Promise<Void> promise = Promise.promise();
    try {
      sender.execute(() -> {
        try {
          producer.flush();
          context.runOnContext(v -> promise.tryComplete());
        } catch (RuntimeException e) {
          context.runOnContext(v -> promise.tryFail(e));
        }
      });
    } catch (RejectedExecutionException e) {
      promise.fail(rejected());
    }
    return promise.future();
  }

  /** Closes with {@link #DEFAULT_CLOSE_TIMEOUT}. */
  public Future<Void> close() {
    return close(DEFAULT_CLOSE_TIMEOUT);
  }

  /**
   * Stops accepting sends, lets queued ones go out, and closes the producer waiting at most
   * {@code timeout} for acknowledgements; sends still unacknowledged then fail. Idempotent; never blocks
   * the caller.
   */
  public Future<Void> close(Duration timeout) {
    Context context = vertx.getOrCreateContext();
    Promise<Void> promise = Promise.promise();
    if (!closed.compareAndSet(false, true)) {
      promise.complete();
      return promise.future();
    }
    Thread closer = new Thread(() -> {
      long deadline = System.nanoTime() + timeout.toNanos();
      sender.shutdown();
      try {
        if (!sender.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
          LOG.warn("Publisher {}: queued sends did not finish within {}", name, timeout);
          sender.shutdownNow();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      long left = Math.max(0, deadline - System.nanoTime());
      try {
        producer.close(Duration.ofNanos(left));
      } catch (RuntimeException e) {
        LOG.warn("Publisher {}: producer close failed: {}", name, e.toString());
      }
      context.runOnContext(v -> promise.complete());
    }, "lattice-publisher-close-" + name);
    closer.setDaemon(true);
    closer.start();
    return promise.future();
  }

  @FunctionalInterface
  private interface RecordBuilder {
    ProducerRecord<byte[], byte[]> build();
  }

  private Future<RecordMetadata> submit(RecordBuilder builder) {
    Context context = vertx.getOrCreateContext();
    Promise<RecordMetadata> promise = Promise.promise();
    if (closed.get()) {
      promise.fail(new IllegalStateException("event publisher " + name + " is closed"));
      return promise.future();
    }
    Optional<KafkaUnavailableException> refused = availability.unavailable();
    if (refused.isPresent()) {
      promise.fail(refused.get());
      return promise.future();
    }
    Duration bound = answerWithin;
    if (bound != null) {
      long timer = vertx.setTimer(bound.toMillis(), id -> {
        KafkaUnavailableException late = new KafkaUnavailableException("Kafka did not acknowledge the write within "
            + bound.toMillis() + " ms (it may still be applied; retrying is safe)", availability.retryAfter(), true, null);
        if (promise.tryFail(late)) {
          availability.sendFailed(late);
        }
      });
      promise.future().onComplete(ar -> vertx.cancelTimer(timer));
    }
    try {
      sender.execute(() -> {
        try {
          ProducerRecord<byte[], byte[]> record = builder.build();
          Thread sending = Thread.currentThread();
          producer.send(record, (metadata, error) -> {
            // Called on this thread = from inside send() (e.g. no metadata within max.block.ms):
            // the record never reached the producer's buffer.
            boolean sent = Thread.currentThread() != sending;
            context.runOnContext(v -> {
              if (error != null) {
                promise.tryFail(unavailableIfRetriable(error, sent));
              } else {
                promise.tryComplete(metadata);
              }
            });
          });
        } catch (RuntimeException e) {
          // send() throws a TimeoutException when max.block.ms passed without metadata: nothing was sent.
          context.runOnContext(v -> promise.tryFail(unavailableIfRetriable(e, false)));
        }
      });
    } catch (RejectedExecutionException e) {
      promise.fail(closed.get() ? new IllegalStateException("event publisher " + name + " is closed")
          : rejected());
    }
    return promise.future();
  }

  private KafkaUnavailableException rejected() {
    return new KafkaUnavailableException("event publisher " + name + ": " + sender.getQueue().size()
        + " sends already waiting (expected: fewer than the bound; is the broker reachable?)",
        availability.retryAfter(), false, null);
  }

  /** A timeout or another retriable producer error means "Kafka away, try later"; others pass as they are. */
  private Throwable unavailableIfRetriable(Throwable error, boolean sent) {
    if (!(error instanceof RetriableException)) {
      return error;
    }
    availability.sendFailed(error);
    String what = sent
        ? "Kafka did not acknowledge the write in time (it may still be applied; retrying is safe): "
        : "Kafka unreachable, nothing written: ";
    return new KafkaUnavailableException(what + error.getMessage(), availability.retryAfter(), sent, error);
  }

  private static Header[] toArray(Iterable<Header> headers) {
    java.util.List<Header> list = new java.util.ArrayList<>();
    headers.forEach(list::add);
    return list.toArray(Header[]::new);
  }
}
