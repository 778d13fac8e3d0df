package dev.lattice.kit.fold;

import dev.lattice.kit.deadletter.DeadLetterPublisher;
import dev.lattice.kit.topic.Topic;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The state of a compacted topic, folded into memory: it replays the topic from the beginning on its own
 * thread (never an event loop) and keeps following it; each record sets its key's value, a tombstone
 * removes the key. Replaying the same topic again yields the same state, so a restarted service simply
 * folds again.
 *
 * <p>Values are decoded with the topic's value serde; a record that does not decode goes to the topic's
 * dead-letter companion with the reason (via the given {@link DeadLetterPublisher}, once per
 * {@link #consumerName()} and offset: a replay after a restart does not write it again) and the fold moves
 * on. {@link #caughtUp()} turns true once the fold has read up to the end offsets that existed when it
 * started — the signal for {@code /readyz}. Listener callbacks run on the given {@link Executor}, in
 * order; a Vert.x service passes {@code r -> context.runOnContext(v -> r.run())} to get them on its
 * context.
 *
 * <p>The fold reads without a consumer group (assign + seek), {@code read_committed}: every instance sees
 * every partition. Partitions added after start are not followed. When the broker goes away the fold
 * keeps its state, waits, and resumes where it was once the broker is back. Thread-safe: {@link #snapshot()} and
 * {@link #get} may be called from any thread. The creator closes it; {@link #close()} is bounded.
 */
public final class TopicFold<V> implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(TopicFold.class);
  private static final Duration POLL = Duration.ofMillis(200);
  private static final Duration DEAD_LETTER_ACK = Duration.ofSeconds(30);
  private static final Duration RETRY_PAUSE = Duration.ofMillis(500);
  private static final Duration POSITION_TIMEOUT = Duration.ofSeconds(5);

  private final Topic<String, V> topic;
  private final Map<String, Object> consumerConfig;
  private final DeadLetterPublisher deadLetters;
  private final String consumerName;
  private final Executor listenerExecutor;
  private final List<FoldListener<V>> listeners = new CopyOnWriteArrayList<>();
  private final Duration closeTimeout;

  private final Object lock = new Object();
  private final Map<String, V> state = new HashMap<>();
  private long version;
  private Map<String, V> cachedSnapshot = Map.of();
  private long cachedVersion = -1;

  private final CompletableFuture<Void> caughtUpFuture = new CompletableFuture<>();
  private final AtomicLong deadLettered = new AtomicLong();
  private final AtomicLong applied = new AtomicLong();
  private volatile boolean running;
  private volatile KafkaConsumer<byte[], byte[]> consumer;
  private Thread thread;

  private TopicFold(Builder<V> b) {
    this.topic = b.topic;
    Map<String, Object> config = new HashMap<>(b.consumerConfig);
    config.remove(ConsumerConfig.GROUP_ID_CONFIG);
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    // A fold must never create the topic it reads (it would get broker defaults, not its spec).
    config.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
    Object clientId = config.get(ConsumerConfig.CLIENT_ID_CONFIG);
    this.consumerName = b.consumerName != null ? b.consumerName
        : clientId != null ? clientId.toString() : "fold-" + b.topic.name();
    if (clientId != null) {
      config.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId + "-fold-" + b.topic.name());
    }
    this.consumerConfig = Map.copyOf(config);
    this.deadLetters = b.deadLetters;
    this.listenerExecutor = b.listenerExecutor;
    this.listeners.addAll(b.listeners);
    this.closeTimeout = b.closeTimeout;
  }

  /**
   * Starts a builder.
   *
   * @param topic a compacted topic with string keys
   * @param consumerConfig consumer properties with at least {@code bootstrap.servers} (e.g.
   *     {@code KafkaClientConfig.consumer(null, "fold")}); group, commit, isolation and offset-reset
   *     settings are forced by the fold
   * @param deadLetters where undecodable records go; owned by the caller
   */
  public static <V> Builder<V> builder(Topic<String, V> topic, Map<String, Object> consumerConfig,
      DeadLetterPublisher deadLetters) {
    return new Builder<>(topic, consumerConfig, deadLetters);
  }

  /** Starts the fold thread; returns at once. Call once. */
  public synchronized TopicFold<V> start() {
    if (thread != null) {
      throw new IllegalStateException("fold of " + topic.name() + " already started");
    }
    running = true;
    thread = new Thread(this::run, "lattice-fold-" + topic.name());
    thread.setDaemon(true);
    thread.start();
    return this;
  }

  /** Registers a listener for changes applied from now on (callbacks on the fold's executor). */
  public void addListener(FoldListener<V> listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
  }

  /**
   * Whether the fold has read up to the end offsets that existed when it started and is still running
   * (false again after {@link #close()} or a fatal error): the readiness condition.
   */
  public boolean caughtUp() {
    return running && caughtUpFuture.isDone() && !caughtUpFuture.isCompletedExceptionally();
  }

  /** Completes once {@link #caughtUp()} holds; fails if the fold stops before that. */
  public CompletionStage<Void> whenCaughtUp() {
    return caughtUpFuture.copy();
  }

  /** An immutable copy of the current state: every record applied so far. */
  public Map<String, V> snapshot() {
    synchronized (lock) {
      if (cachedVersion != version) {
        cachedSnapshot = Map.copyOf(state);
        cachedVersion = version;
      }
      return cachedSnapshot;
    }
  }

  /** The current value of {@code key}. */
  public Optional<V> get(String key) {
    synchronized (lock) {
      return Optional.ofNullable(state.get(key));
    }
  }

  /**
   * How many unusable records this fold met so far (each goes to the dead-letter topic once per
   * {@link #consumerName()}: a replay counts them again but does not write them again).
   */
  public long deadLettered() {
    return deadLettered.get();
  }

  /** How many records (values and tombstones) were applied so far. */
  public long applied() {
    return applied.get();
  }

  /** The name its dead letters carry in {@code lattice.dlq.group}. */
  public String consumerName() {
    return consumerName;
  }

  /** The folded topic. */
  public Topic<String, V> topic() {
    return topic;
  }

  /** Stops the fold thread and closes its consumer, waiting at most the builder's close timeout. */
  @Override
  public void close() {
    Thread t;
    synchronized (this) {
      running = false;
      t = thread;
    }
    KafkaConsumer<byte[], byte[]> c = consumer;
    if (c != null) {
      c.wakeup();
    }
    if (t != null && t != Thread.currentThread()) {
      try {
        t.join(closeTimeout.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (t.isAlive()) {
        LOG.warn("Fold of {} did not stop within {}", topic.name(), closeTimeout);
      }
    }
    caughtUpFuture.completeExceptionally(new IllegalStateException("fold of " + topic.name() + " closed"));
  }

  private void run() {
    try (KafkaConsumer<byte[], byte[]> c =
        new KafkaConsumer<>(consumerConfig, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      consumer = c;
      if (!running) {
        return;
      }
      List<TopicPartition> partitions = awaitPartitions(c);
      if (partitions.isEmpty()) {
        return;
      }
      c.assign(partitions);
      c.seekToBeginning(partitions);
      Map<TopicPartition, Long> startEnd = retrying("end offsets of " + topic.name(), () -> c.endOffsets(partitions));
      if (startEnd == null) {
        return;
      }
      LOG.info("Folding {} ({} partitions, {} records to catch up)", topic.name(), partitions.size(),
          startEnd.values().stream().mapToLong(Long::longValue).sum());
      checkCaughtUp(c, startEnd);
      while (running) {
        ConsumerRecords<byte[], byte[]> records = c.poll(POLL);
        if (!records.isEmpty()) {
          apply(records);
        }
        if (!caughtUpFuture.isDone()) {
          checkCaughtUp(c, startEnd);
        }
      }
    } catch (WakeupException | InterruptException e) {
      if (running) {
        LOG.error("Fold of {} interrupted unexpectedly", topic.name(), e);
      }
    } catch (RuntimeException e) {
      running = false;
      LOG.error("Fold of {} stopped: {}", topic.name(), e.toString(), e);
      caughtUpFuture.completeExceptionally(e);
    } finally {
      consumer = null;
    }
  }

  private List<TopicPartition> awaitPartitions(KafkaConsumer<byte[], byte[]> c) {
    boolean warned = false;
    while (running) {
      List<PartitionInfo> infos = retrying("partitions of " + topic.name(), () -> c.partitionsFor(topic.name()));
      if (infos != null && !infos.isEmpty()) {
        return infos.stream().map(i -> new TopicPartition(i.topic(), i.partition())).toList();
      }
      if (!warned && running) {
        LOG.warn("Fold waits for topic {} to exist", topic.name());
        warned = true;
      }
      if (!pause()) {
        return List.of();
      }
    }
    return List.of();
  }

  /**
   * Runs a metadata call until it succeeds or the fold closes: while the broker is away such calls time
   * out, and the fold must wait for it rather than die. Null when closed first.
   */
  private <T> T retrying(String what, Supplier<T> call) {
    boolean warned = false;
    while (running) {
      try {
        return call.get();
      } catch (RetriableException e) {
        if (!warned) {
          LOG.warn("Fold of {}: {} not available yet ({}); retrying", topic.name(), what, e.toString());
          warned = true;
        }
        if (!pause()) {
          return null;
        }
      }
    }
    return null;
  }

  private boolean pause() {
    try {
      Thread.sleep(RETRY_PAUSE.toMillis());
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private void checkCaughtUp(KafkaConsumer<byte[], byte[]> c, Map<TopicPartition, Long> startEnd) {
    for (Map.Entry<TopicPartition, Long> e : startEnd.entrySet()) {
      long position;
      try {
        position = c.position(e.getKey(), POSITION_TIMEOUT);
      } catch (RetriableException broker) {
        return; // the broker is away; try again after the next poll
      }
      if (position < e.getValue()) {
        return;
      }
    }
    if (caughtUpFuture.complete(null)) {
      LOG.info("Fold of {} caught up: {} keys", topic.name(), snapshot().size());
      notifyListeners(FoldListener::caughtUp);
    }
  }

  private void apply(ConsumerRecords<byte[], byte[]> records) {
    for (ConsumerRecord<byte[], byte[]> record : records) {
      if (record.key() == null) {
        deadLetter(record, "record without a key on compacted topic " + topic.name(), null);
        continue;
      }
      String key;
      V value;
      try {
        key = topic.keySerde().deserializer().deserialize(record.topic(), record.headers(), record.key());
        value = record.value() == null ? null
            : topic.valueSerde().deserializer().deserialize(record.topic(), record.headers(), record.value());
      } catch (RuntimeException e) {
        deadLetter(record, e.getMessage(), e);
        continue;
      }
      if (record.value() != null && value == null) {
        deadLetter(record, "value serde returned null for " + record.value().length + " bytes", null);
        continue;
      }
      V previous;
      synchronized (lock) {
        previous = value == null ? state.remove(key) : state.put(key, value);
        version++;
      }
      applied.incrementAndGet();
      if (value == null) {
        if (previous != null) {
          notifyListeners(l -> l.deleted(key, previous));
        }
      } else {
        V current = value;
        notifyListeners(l -> l.upserted(key, current, previous));
      }
    }
  }

  private void deadLetter(ConsumerRecord<byte[], byte[]> record, String reason, Throwable error) {
    deadLettered.incrementAndGet();
    try {
      deadLetters.publish(record, consumerName, reason, error).get(DEAD_LETTER_ACK.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptException(e);
    } catch (Exception e) {
      // The record stays in the source topic; losing the dead letter must not stop the fold.
      LOG.error("Could not dead-letter {}-{}@{} ({}): {}", record.topic(), record.partition(), record.offset(),
          reason, e.toString());
    }
  }

  private void notifyListeners(Consumer<FoldListener<V>> call) {
    for (FoldListener<V> listener : listeners) {
      try {
        listenerExecutor.execute(() -> {
          try {
            call.accept(listener);
          } catch (RuntimeException e) {
            LOG.error("Fold listener of {} failed", topic.name(), e);
          }
        });
      } catch (RejectedExecutionException e) {
        // The listener's executor is shutting down (its service is stopping); the fold itself goes on.
        LOG.warn("Fold listener executor of {} refused a callback: {}", topic.name(), e.toString());
      }
    }
  }

  /** Configures a {@link TopicFold}. Not thread-safe; build once. */
  public static final class Builder<V> {
    private final Topic<String, V> topic;
    private final Map<String, Object> consumerConfig;
    private final DeadLetterPublisher deadLetters;
    private Executor listenerExecutor = Runnable::run;
    private final List<FoldListener<V>> listeners = new java.util.ArrayList<>();
    private Duration closeTimeout = Duration.ofSeconds(10);
    private String consumerName;

    private Builder(Topic<String, V> topic, Map<String, Object> consumerConfig,
        DeadLetterPublisher deadLetters) {
      this.topic = Objects.requireNonNull(topic, "topic");
      this.consumerConfig = Map.copyOf(consumerConfig);
      this.deadLetters = Objects.requireNonNull(deadLetters, "deadLetters");
      if (!consumerConfig.containsKey(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG)) {
        throw new IllegalArgumentException("consumerConfig: no bootstrap.servers");
      }
    }

    /**
     * Where listener callbacks run. Default: the fold thread itself (callbacks must then be quick and
     * must not call {@link TopicFold#close()}).
     */
    public Builder<V> listenerExecutor(Executor executor) {
      this.listenerExecutor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /** Adds a listener, registered before the first record is applied. */
    public Builder<V> listener(FoldListener<V> listener) {
      listeners.add(Objects.requireNonNull(listener, "listener"));
      return this;
    }

    /**
     * The fold's stable name, written as {@code lattice.dlq.group} on its dead letters: a record is
     * dead-lettered once per name and offset, however often the fold replays the topic. Default: the
     * consumer config's {@code client.id} (e.g. {@code policy-resources-fold}), else
     * {@code fold-<topic>}. Keep it stable across restarts.
     */
    public Builder<V> consumerName(String name) {
      if (name == null || name.isBlank()) {
        throw new IllegalArgumentException("consumerName: blank");
      }
      this.consumerName = name;
      return this;
    }

    /** Bound of {@link TopicFold#close()}. Default 10 s. */
    public Builder<V> closeTimeout(Duration timeout) {
      this.closeTimeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /** Builds the fold without starting it. */
    public TopicFold<V> build() {
      return new TopicFold<>(this);
    }
  }
}
