package dev.lattice.kit.topic;

import java.util.List;

/**
 * What {@link TopicProvisioner#ensure} did: topics it created, existing topics it verified, and
 * non-fatal findings (an existing topic with fewer partitions than its spec).
 *
 * @param brokers brokers in the cluster, from which replication was derived
 * @param replicationFactor replication factor used for created topics
 * @param created topics created by this call
 * @param verified topics that already existed and matched their spec's cleanup policy
 * @param warnings human-readable findings that do not stop the service
 */
public record ProvisioningReport(int brokers, short replicationFactor, List<String> created,
    List<String> verified, List<String> warnings) {

  public ProvisioningReport {
    created = List.copyOf(created);
    verified = List.copyOf(verified);
    warnings = List.copyOf(warnings);
  }
}
