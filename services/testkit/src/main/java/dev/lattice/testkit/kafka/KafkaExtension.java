package dev.lattice.testkit.kafka;

import dev.lattice.kafka.embedded.EmbeddedKafkaBroker;
import java.util.Locale;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.kafka.KafkaContainer;

/**
 * JUnit 5 extension that resolves {@link KafkaCluster} parameters with a real broker, started once per
 * test JVM and shared by every test class:
 *
 * <ol>
 *   <li>{@code KAFKA_BOOTSTRAP_SERVERS} (environment variable or system property) set: that cluster;
 *   <li>else, when a Docker engine is reachable: a Testcontainers {@code apache/kafka} broker (image
 *       overridable with {@code LATTICE_KAFKA_IMAGE});
 *   <li>else: the in-process {@link EmbeddedKafkaBroker} (KRaft, temporary data dir).
 * </ol>
 *
 * {@code LATTICE_TEST_KAFKA=embedded|testcontainers|external} forces a choice. The broker lives in the
 * root {@link ExtensionContext.Store}, so JUnit closes it (and the shared admin client) when the test
 * plan ends. Thread-safe under parallel test execution.
 */
public final class KafkaExtension implements ParameterResolver {

  /** Environment variable / system property naming an external cluster. */
  public static final String BOOTSTRAP_ENV = "KAFKA_BOOTSTRAP_SERVERS";
  /** Environment variable / system property forcing the broker kind. */
  public static final String MODE_ENV = "LATTICE_TEST_KAFKA";
  /** Environment variable / system property overriding the Testcontainers image. */
  public static final String IMAGE_ENV = "LATTICE_KAFKA_IMAGE";
  /** The Testcontainers image used by default: the same Kafka version as the clients. */
  public static final String DEFAULT_IMAGE = "apache/kafka:4.4.0";

  private static final Logger LOG = LoggerFactory.getLogger(KafkaExtension.class);
  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(KafkaExtension.class);

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == KafkaCluster.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    try {
      return cluster(context);
    } catch (RuntimeException e) {
      throw new ParameterResolutionException("could not provide a Kafka cluster: " + e.getMessage(), e);
    }
  }

  /** The JVM-wide cluster, started on first use; for extensions and fixtures that build on this one. */
  public static KafkaCluster cluster(ExtensionContext context) {
    return context.getRoot().getStore(NAMESPACE)
        .computeIfAbsent(SharedKafkaCluster.class, k -> startCluster(), SharedKafkaCluster.class);
  }

  /**
   * Which broker to use: a forced {@code mode} wins, then an external address, then Docker, then the
   * embedded broker. {@code dockerAvailable} is asked only when needed.
   *
   * @throws IllegalStateException on an unknown mode, or {@code external} without an address
   */
  static KafkaCluster.Source chooseSource(String mode, String external, BooleanSupplier dockerAvailable) {
    if (mode != null) {
      KafkaCluster.Source forced = switch (mode.trim().toLowerCase(Locale.ROOT)) {
        case "external" -> KafkaCluster.Source.EXTERNAL;
        case "testcontainers", "docker" -> KafkaCluster.Source.TESTCONTAINERS;
        case "embedded" -> KafkaCluster.Source.EMBEDDED;
        default -> throw new IllegalStateException(MODE_ENV + ": '" + mode
            + "' (expected: embedded, testcontainers or external)");
      };
      if (forced == KafkaCluster.Source.EXTERNAL && external == null) {
        throw new IllegalStateException(MODE_ENV + "=external but " + BOOTSTRAP_ENV + " is not set");
      }
      return forced;
    }
    if (external != null) {
      return KafkaCluster.Source.EXTERNAL;
    }
    return dockerAvailable.getAsBoolean() ? KafkaCluster.Source.TESTCONTAINERS : KafkaCluster.Source.EMBEDDED;
  }

  private static SharedKafkaCluster startCluster() {
    String external = setting(BOOTSTRAP_ENV);
    KafkaCluster.Source source = chooseSource(setting(MODE_ENV), external,
        () -> DockerClientFactory.instance().isDockerAvailable());
    return switch (source) {
      case EXTERNAL -> {
        LOG.info("Tests use the external Kafka cluster at {}", external);
        yield SharedKafkaCluster.open(KafkaCluster.Source.EXTERNAL, external, () -> { });
      }
      case TESTCONTAINERS -> {
        String image = setting(IMAGE_ENV) != null ? setting(IMAGE_ENV) : DEFAULT_IMAGE;
        KafkaContainer container = new KafkaContainer(image);
        container.start();
        LOG.info("Tests use a Testcontainers Kafka ({}) at {}", image, container.getBootstrapServers());
        yield SharedKafkaCluster.open(KafkaCluster.Source.TESTCONTAINERS, container.getBootstrapServers(),
            container::stop);
      }
      case EMBEDDED -> {
        EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().build().start();
        LOG.info("Tests use the embedded Kafka broker at {}", broker.bootstrapServers());
        yield SharedKafkaCluster.open(KafkaCluster.Source.EMBEDDED, broker.bootstrapServers(), broker::close);
      }
    };
  }

  private static String setting(String name) {
    String value = System.getProperty(name);
    if (value == null || value.isBlank()) {
      value = System.getenv(name);
    }
    return value == null || value.isBlank() ? null : value.trim();
  }
}
