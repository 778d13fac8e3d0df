package dev.lattice.local;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * How to run the local stack.
 *
 * @param dataDir where the stack keeps its state ({@code .lattice}): Kafka's log under {@code kafka/},
 *     the endpoints file, the lock
 * @param clean wipe {@code dataDir} before starting
 * @param externalKafka use this broker ({@code host:port}) instead of the embedded one
 * @param kafkaPort embedded broker's client port (9092; 0 = any free port)
 * @param controllerPort embedded broker's KRaft controller port (9093; 0 = any free port)
 * @param ephemeralPorts bind every service's HTTP endpoint to a free port instead of its fixed one
 * @param config extra configuration handed to the services (highest precedence after the stack's own
 *     {@code kafka.bootstrap.servers})
 * @param readyTimeout how long to wait for every {@code /readyz} before reporting what is not ready;
 *     also bounds topic provisioning (at most 30 s)
 */
public record LocalStackOptions(Path dataDir, boolean clean, Optional<String> externalKafka, int kafkaPort,
    int controllerPort, boolean ephemeralPorts, Map<String, String> config, Duration readyTimeout) {

  /** The fixed local Kafka client port. */
  public static final int KAFKA_PORT = 9092;
  /** The fixed local KRaft controller port. */
  public static final int CONTROLLER_PORT = 9093;

  public LocalStackOptions {
    config = Map.copyOf(config);
  }

  /** The defaults of {@code ./lattice up}: {@code .lattice}, fixed ports, embedded Kafka. */
  public static LocalStackOptions defaults() {
    return new LocalStackOptions(Path.of(".lattice"), false, Optional.empty(), KAFKA_PORT, CONTROLLER_PORT,
        false, Map.of(), Duration.ofSeconds(90));
  }

  /** For tests: a given data dir, every port ephemeral. */
  public static LocalStackOptions ephemeral(Path dataDir) {
    return new LocalStackOptions(dataDir, false, Optional.empty(), 0, 0, true, Map.of(), Duration.ofSeconds(90));
  }

  public LocalStackOptions withClean(boolean wipe) {
    return new LocalStackOptions(dataDir, wipe, externalKafka, kafkaPort, controllerPort, ephemeralPorts, config,
        readyTimeout);
  }

  public LocalStackOptions withConfig(Map<String, String> extra) {
    return new LocalStackOptions(dataDir, clean, externalKafka, kafkaPort, controllerPort, ephemeralPorts, extra,
        readyTimeout);
  }
}
