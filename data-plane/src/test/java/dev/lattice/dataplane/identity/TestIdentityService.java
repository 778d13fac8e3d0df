package dev.lattice.dataplane.identity;

import dev.lattice.kit.admin.AdminTokenFile;
import dev.lattice.testkit.kafka.KafkaCluster;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** The configuration every data-plane test that runs a real identity service starts it with. */
public final class TestIdentityService {
  private TestIdentityService() {}

  /** Ephemeral ports, state under {@code dir}, and topics of its own on {@code kafka}; callers may add keys. */
  public static Map<String, String> config(KafkaCluster kafka, Path dir) {
    Map<String, String> config = new HashMap<>();
    config.put("kafka.bootstrap.servers", kafka.bootstrapServers());
    config.put("ports.ephemeral", "true");
    config.put("identity.http.port", "0");
    config.put("identity.data.dir", dir.resolve("identity").toString());
    config.put(AdminTokenFile.CONFIG_KEY, dir.resolve("admin.token").toString());
    config.put("identity.topics.entries", kafka.uniqueTopic("lattice.entries.v1"));
    config.put("identity.topics.bundles", kafka.uniqueTopic("lattice.bundles.v1"));
    config.put("identity.topics.audit", kafka.uniqueTopic("lattice.identity.audit.v1"));
    return config;
  }
}
