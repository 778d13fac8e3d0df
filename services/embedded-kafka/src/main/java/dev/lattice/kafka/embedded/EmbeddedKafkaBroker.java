package dev.lattice.kafka.embedded;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Apache Kafka broker running in this JVM: one {@link KafkaRaftServer} in combined
 * broker+controller KRaft mode (node id 1, PLAINTEXT client listener, CONTROLLER listener), for tests
 * and the local stack.
 *
 * <p>The data directory is either persistent ({@link Builder#dataDir(Path)}: formatted on first use,
 * reused as is on later starts when {@code meta.properties} exists, so events survive restarts) or a
 * temporary directory created on {@link #start()} and deleted on {@link #close()}. Never start two
 * brokers on one data directory.
 *
 * <p>Lifecycle: {@link #start()} blocks the calling thread for a few seconds until the broker is
 * unfenced and serving — never call it on a Vert.x event loop (use {@code executeBlocking} or a plain
 * thread). {@link #stop()} shuts the broker down but keeps its data directory and ports, so a later
 * {@link #start()} brings the same broker back on the same address with the same log (what a broker
 * outage looks like to clients: connection refused, then the broker returns). {@link #close()} shuts
 * down cleanly within the builder's shutdown timeout and forgets ports and a temporary data dir. The
 * creator owns the broker and closes it. Thread-safe: start, stop and close are serialized.
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafkaBroker.class);
  private static final int NODE_ID = 1;
  private static final String CONTROLLER_LISTENER = "CONTROLLER";
  private static final List<String> NOISY_LOGGERS =
      List.of("kafka", "org.apache.kafka", "state.change.logger");

  private final Path configuredDataDir;
  private final String host;
  private final int requestedBrokerPort;
  private final int requestedControllerPort;
  private final Map<String, String> extraProperties;
  private final Duration shutdownTimeout;
  private final boolean quietLogs;

  private KafkaRaftServer server;
  private Path dataDir;
  private boolean temporaryDataDir;
  private int brokerPort;
  private int controllerPort;
  private String clusterId;

  private EmbeddedKafkaBroker(Builder b) {
    this.configuredDataDir = b.dataDir;
    this.host = b.host;
    this.requestedBrokerPort = b.brokerPort;
    this.requestedControllerPort = b.controllerPort;
    this.extraProperties = Map.copyOf(b.properties);
    this.shutdownTimeout = b.shutdownTimeout;
    this.quietLogs = b.quietLogs;
  }

  /** A builder with defaults: temporary data dir, host 127.0.0.1, ephemeral ports, 30 s shutdown bound. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Formats the data directory if needed and starts the broker; returns once it is unfenced and accepts
   * clients. After {@link #stop()} it restarts on the same ports and data directory. Blocking (typically
   * 3–6 s): never call it on an event loop.
   *
   * @return this broker, for chaining
   * @throws IllegalStateException if already started, or if the broker fails to start (the cause says why)
   */
  public synchronized EmbeddedKafkaBroker start() {
    if (server != null) {
      throw new IllegalStateException("embedded Kafka broker already started on " + bootstrapServers());
    }
    if (quietLogs) {
      quietKafkaLoggers();
    }
    KafkaRaftServer raft = null;
    boolean restart = dataDir != null;
    try {
      if (!restart) {
        prepareDataDir();
        pickPorts();
      }
      Properties props = brokerProperties();
      ensureFormatted();
      KafkaConfig config = KafkaConfig.fromProps(props, false);
      raft = new KafkaRaftServer(config, Time.SYSTEM);
      long began = System.nanoTime();
      raft.startup();
      server = raft;
      LOG.info("Embedded Kafka broker {} {} in {} ms (cluster {}, data {})", bootstrapServers(),
          restart ? "restarted" : "up", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began), clusterId,
          dataDir);
      return this;
    } catch (Exception e) {
      IllegalStateException failure = new IllegalStateException("embedded Kafka broker failed to "
          + (restart ? "restart" : "start") + " (data dir " + dataDir + ", listeners " + host + ":" + brokerPort
          + "/" + controllerPort + "): " + e.getMessage(), e);
      if (raft != null) {
        stopQuietly(raft);
      }
      if (!restart) {
        cleanUpAfterFailedStart();
      }
      throw failure;
    }
  }

  /**
   * {@code host:port} of the PLAINTEXT client listener, for {@code bootstrap.servers} (valid once started,
   * and while {@link #stop() stopped}: the address the broker returns on).
   */
  public synchronized String bootstrapServers() {
    requireAssigned();
    return host + ":" + brokerPort;
  }

  /** The port of the client listener (valid once started, and while stopped). */
  public synchronized int brokerPort() {
    requireAssigned();
    return brokerPort;
  }

  /** The port of the KRaft controller listener (valid once started, and while stopped). */
  public synchronized int controllerPort() {
    requireAssigned();
    return controllerPort;
  }

  /** The directory holding the log and metadata (valid once started, and while stopped). */
  public synchronized Path dataDir() {
    requireAssigned();
    return dataDir;
  }

  /** The KRaft cluster id, read from {@code meta.properties} or generated when formatting. */
  public synchronized String clusterId() {
    requireAssigned();
    return clusterId;
  }

  /** Whether {@link #start()} succeeded and {@link #close()} has not been called since. */
  public synchronized boolean isRunning() {
    return server != null;
  }

  /**
   * Shuts the broker down cleanly but keeps its data directory (temporary or not) and its ports, so
   * {@link #start()} brings it back on the same address with the same log; meanwhile clients see the
   * connection refused. Waits at most the builder's shutdown timeout. Idempotent. Blocking: not for an
   * event loop.
   *
   * @return whether the broker stopped within the timeout (false: abandoned to its daemon threads, and
   *     a restart on the same ports will likely fail)
   */
  public synchronized boolean stop() {
    KafkaRaftServer raft = server;
    if (raft == null) {
      return true;
    }
    server = null;
    return shutDown(raft);
  }

  /**
   * Shuts the broker down cleanly, waiting at most the builder's shutdown timeout (a broker that does not
   * stop in time is logged and abandoned to its daemon threads), then deletes a temporary data dir and
   * forgets the ports (a later {@link #start()} is a fresh broker). Idempotent. Blocking: not for an
   * event loop.
   */
  @Override
  public synchronized void close() {
    boolean stopped = stop();
    if (stopped && temporaryDataDir) {
      deleteRecursively(dataDir);
    }
    dataDir = null;
    brokerPort = 0;
    controllerPort = 0;
  }

  private boolean shutDown(KafkaRaftServer raft) {
    Thread stopper = new Thread(() -> {
      raft.shutdown();
      raft.awaitShutdown();
    }, "lattice-kafka-shutdown");
    stopper.setDaemon(true);
    stopper.start();
    boolean stopped;
    try {
      stopper.join(shutdownTimeout.toMillis());
      stopped = !stopper.isAlive();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stopped = false;
    }
    if (!stopped) {
      LOG.warn("Embedded Kafka broker {}:{} did not stop within {}; abandoning it", host, brokerPort,
          shutdownTimeout);
      return false;
    }
    LOG.info("Embedded Kafka broker {}:{} stopped", host, brokerPort);
    return true;
  }

  private void requireAssigned() {
    if (dataDir == null) {
      throw new IllegalStateException("embedded Kafka broker is not running");
    }
  }

  private void prepareDataDir() throws IOException {
    if (configuredDataDir == null) {
      // Read the property now (not the JDK's start-up cache) so surefire's tmpdir=target/ applies.
      Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
      Files.createDirectories(tmp);
      dataDir = Files.createTempDirectory(tmp, "lattice-kafka-");
      temporaryDataDir = true;
    } else {
      dataDir = configuredDataDir.toAbsolutePath();
      Files.createDirectories(dataDir);
      temporaryDataDir = false;
    }
  }

  /** Binds both listeners' ports at once, so the OS cannot hand out the same free port twice. */
  private void pickPorts() throws IOException {
    InetAddress address = InetAddress.getByName(host);
    try (ServerSocket a = bind(address, requestedBrokerPort);
        ServerSocket b = bind(address, requestedControllerPort)) {
      brokerPort = a.getLocalPort();
      controllerPort = b.getLocalPort();
    }
  }

  private static ServerSocket bind(InetAddress address, int port) throws IOException {
    ServerSocket socket = new ServerSocket();
    socket.setReuseAddress(true);
    try {
      socket.bind(new InetSocketAddress(address, port));
    } catch (IOException e) {
      socket.close();
      throw new IOException("port " + address.getHostAddress() + ":" + port + " is not free: "
          + e.getMessage(), e);
    }
    return socket;
  }

  private Properties brokerProperties() {
    Map<String, String> p = new LinkedHashMap<>();
    p.put("process.roles", "broker,controller");
    p.put("node.id", Integer.toString(NODE_ID));
    p.put("controller.quorum.voters", NODE_ID + "@" + host + ":" + controllerPort);
    p.put("listeners", "PLAINTEXT://" + host + ":" + brokerPort + "," + CONTROLLER_LISTENER + "://"
        + host + ":" + controllerPort);
    p.put("advertised.listeners", "PLAINTEXT://" + host + ":" + brokerPort);
    p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT," + CONTROLLER_LISTENER + ":PLAINTEXT");
    p.put("controller.listener.names", CONTROLLER_LISTENER);
    p.put("inter.broker.listener.name", "PLAINTEXT");
    p.put("log.dirs", dataDir.toString());
    p.put("metadata.log.dir", dataDir.toString());
    // Single node: internal topics cannot have more replicas than brokers.
    p.put("offsets.topic.replication.factor", "1");
    // The default 50 partitions make the first consumer-group join take ~7 s.
    p.put("offsets.topic.num.partitions", "1");
    p.put("transaction.state.log.replication.factor", "1");
    p.put("transaction.state.log.min.isr", "1");
    p.put("transaction.state.log.num.partitions", "1");
    p.put("share.coordinator.state.topic.replication.factor", "1");
    p.put("share.coordinator.state.topic.min.isr", "1");
    p.put("group.initial.rebalance.delay.ms", "0");
    // A 2-core machine shared by many JVMs: keep the thread count small.
    p.put("num.network.threads", "2");
    p.put("num.io.threads", "2");
    p.put("background.threads", "2");
    p.putAll(extraProperties);
    Properties props = new Properties();
    props.putAll(p);
    return props;
  }

  private void ensureFormatted() throws Exception {
    Path meta = dataDir.resolve("meta.properties");
    if (Files.exists(meta)) {
      Properties existing = new Properties();
      try (InputStream in = Files.newInputStream(meta)) {
        existing.load(in);
      }
      clusterId = existing.getProperty("cluster.id");
      String nodeId = existing.getProperty("node.id");
      if (!Integer.toString(NODE_ID).equals(nodeId)) {
        throw new IllegalStateException(meta + ": node.id " + nodeId + " (expected: " + NODE_ID
            + "; this directory belongs to another broker)");
      }
      LOG.info("Reusing formatted Kafka data dir {} (cluster {})", dataDir, clusterId);
      return;
    }
    clusterId = Uuid.randomUuid().toString();
    new Formatter()
        .setPrintStream(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()))
        .setNodeId(NODE_ID)
        .setClusterId(clusterId)
        .setDirectories(List.of(dataDir.toString()))
        .setMetadataLogDirectory(dataDir.toString())
        .setControllerListenerName(CONTROLLER_LISTENER)
        .setSupportedFeatures(Feature.PRODUCTION_FEATURES)
        .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
        .run();
  }

  /** Releases the threads and ports of a half-started server; its own failure is secondary. */
  private static void stopQuietly(KafkaRaftServer raft) {
    try {
      raft.shutdown();
      raft.awaitShutdown();
    } catch (RuntimeException e) {
      LOG.debug("Shutting down a broker that failed to start also failed", e);
    }
  }

  private void cleanUpAfterFailedStart() {
    if (temporaryDataDir && dataDir != null) {
      deleteRecursively(dataDir);
    }
    dataDir = null;
    brokerPort = 0;
    controllerPort = 0;
  }

  /**
   * Lowers Kafka's loggers to WARN when logback is the slf4j backend and nobody configured them
   * explicitly (a broker start logs thousands of INFO lines). Reflection keeps this module free of a
   * logback dependency.
   */
  private static void quietKafkaLoggers() {
    try {
      Class<?> levelClass = Class.forName("ch.qos.logback.classic.Level");
      Object warn = levelClass.getField("WARN").get(null);
      for (String name : NOISY_LOGGERS) {
        Logger logger = LoggerFactory.getLogger(name);
        if (!logger.getClass().getName().equals("ch.qos.logback.classic.Logger")) {
          return;
        }
        Object current = logger.getClass().getMethod("getLevel").invoke(logger);
        if (current == null) {
          logger.getClass().getMethod("setLevel", levelClass).invoke(logger, warn);
        }
      }
    } catch (ReflectiveOperationException | LinkageError e) {
      LOG.debug("logback not present; Kafka log levels left as configured");
    }
  }

  private static void deleteRecursively(Path root) {
    if (root == null || !Files.exists(root)) {
      return;
    }
    try {
      Files.walkFileTree(root, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
          Files.deleteIfExists(file);
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
          Files.deleteIfExists(dir);
          return FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException | UncheckedIOException e) {
      LOG.warn("Could not delete Kafka data dir {}: {}", root, e.getMessage());
    }
  }

  /**
   * Configures an {@link EmbeddedKafkaBroker}. Not thread-safe; build once.
   */
  public static final class Builder {
    private Path dataDir;
    private String host = "127.0.0.1";
    private int brokerPort;
    private int controllerPort;
    private final Map<String, String> properties = new LinkedHashMap<>();
    private Duration shutdownTimeout = Duration.ofSeconds(30);
    private boolean quietLogs = true;

    private Builder() {}

    /**
     * A persistent data directory (created if missing): formatted on first start, reused without
     * re-formatting when it holds {@code meta.properties}. Default: a temporary dir deleted on close.
     */
    public Builder dataDir(Path dir) {
      this.dataDir = Objects.requireNonNull(dir, "dir");
      return this;
    }

    /** Use a fresh temporary data directory, deleted on close (the default). */
    public Builder temporaryDataDir() {
      this.dataDir = null;
      return this;
    }

    /** The address both listeners bind and advertise. Default {@code 127.0.0.1}. */
    public Builder host(String host) {
      this.host = Objects.requireNonNull(host, "host");
      return this;
    }

    /** The client listener port; 0 (default) picks a free one. The local stack uses 9092. */
    public Builder brokerPort(int port) {
      this.brokerPort = checkPort(port);
      return this;
    }

    /** The KRaft controller listener port; 0 (default) picks a free one. The local stack uses 9093. */
    public Builder controllerPort(int port) {
      this.controllerPort = checkPort(port);
      return this;
    }

    /** An extra broker property, applied last (overrides the single-node defaults). */
    public Builder property(String key, String value) {
      properties.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
      return this;
    }

    /** Extra broker properties, applied last. */
    public Builder properties(Map<String, String> extra) {
      extra.forEach(this::property);
      return this;
    }

    /** How long {@link EmbeddedKafkaBroker#close()} waits for a clean shutdown. Default 30 s. */
    public Builder shutdownTimeout(Duration timeout) {
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("shutdownTimeout: " + timeout + " (expected: > 0)");
      }
      this.shutdownTimeout = timeout;
      return this;
    }

    /**
     * Whether to lower {@code kafka}, {@code org.apache.kafka} and {@code state.change.logger} to WARN
     * when logback is the backend and they are not configured explicitly. Default true.
     */
    public Builder quietLogs(boolean quiet) {
      this.quietLogs = quiet;
      return this;
    }

    public EmbeddedKafkaBroker build() {
      return new EmbeddedKafkaBroker(this);
    }

    private static int checkPort(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port: " + port + " (expected: 0..65535, 0 = any free port)");
      }
      return port;
    }
  }
}
