package dev.lattice.identity.agent.attestor;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds a caller's pod the way a node agent can: the pod UID from the process's cgroup path
 * ({@code /proc/<pid>/cgroup}: {@code …/pod<uid>/…} with the cgroupfs driver,
 * {@code …-pod<uid_with_underscores>.slice/…} with systemd), then the pod with that UID among the pods
 * the API server lists on this node ({@code spec.nodeName}).
 *
 * <p>Pods are cached by UID; a UID not in the cache triggers a new listing (at most one per second of
 * the given clock). Thread-safe; the blocking reads (procfs, API server) run on worker threads. It does
 * not own the client.
 */
public final class KubernetesPodResolver implements PodResolver {

  private static final Pattern POD_UID = Pattern.compile(
      "pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})");

  private final Vertx vertx;
  private final KubernetesClient client;
  private final String nodeName;
  private final Path procRoot;
  private final Map<String, PodInfo> byUid = new ConcurrentHashMap<>();
  /** At most one listing per second, however many unknown pods call. */
  static final Duration MIN_LISTING_INTERVAL = Duration.ofSeconds(1);
  private final Clock clock;
  /** When the last listing started; null before the first. Guarded by {@code this}. */
  private Instant lastListing;

  /** A resolver on the system clock. */
  public KubernetesPodResolver(Vertx vertx, KubernetesClient client, String nodeName, Path procRoot) {
    this(vertx, client, nodeName, procRoot, Clock.systemUTC());
  }

  /**
   * @param nodeName this node's name (the downward API's {@code spec.nodeName})
   * @param procRoot the procfs mount ({@code /proc})
   * @param clock paces the listings
   */
  public KubernetesPodResolver(Vertx vertx, KubernetesClient client, String nodeName, Path procRoot, Clock clock) {
    this.vertx = vertx;
    this.client = client;
    this.nodeName = nodeName;
    this.procRoot = procRoot;
    this.clock = clock;
  }

  @Override
  public Future<Optional<PodInfo>> podOf(CallerProcess caller) {
    return vertx.executeBlocking(() -> {
      Optional<String> uid = podUid(caller.pid());
      if (uid.isEmpty()) {
        return Optional.<PodInfo>empty();
      }
      PodInfo cached = byUid.get(uid.get());
      if (cached != null) {
        return Optional.of(cached);
      }
      refresh();
      return Optional.ofNullable(byUid.get(uid.get()));
    }, false);
  }

  /** The pod UID in {@code /proc/<pid>/cgroup}, if the process runs in a pod. */
  Optional<String> podUid(int pid) throws IOException {
    String cgroups;
    try {
      cgroups = Files.readString(procRoot.resolve(Integer.toString(pid)).resolve("cgroup"), StandardCharsets.UTF_8);
    } catch (NoSuchFileException gone) {
      return Optional.empty();
    }
    return parsePodUid(cgroups);
  }

  /** Extracts a pod UID from the content of a {@code /proc/<pid>/cgroup} file. */
  static Optional<String> parsePodUid(String cgroups) {
    Matcher m = POD_UID.matcher(cgroups.toLowerCase(Locale.ROOT));
    return m.find() ? Optional.of(m.group(1).replace('_', '-')) : Optional.empty();
  }

  private synchronized void refresh() {
    Instant now = clock.instant();
    if (lastListing != null && now.isBefore(lastListing.plus(MIN_LISTING_INTERVAL))) {
      return;
    }
    lastListing = now;
    for (Pod pod : client.pods().inAnyNamespace().withField("spec.nodeName", nodeName).list().getItems()) {
      if (pod.getMetadata() == null || pod.getMetadata().getUid() == null || pod.getSpec() == null
          || !nodeName.equals(pod.getSpec().getNodeName())) {
        continue;
      }
      byUid.put(pod.getMetadata().getUid(), new PodInfo(pod.getMetadata().getNamespace(),
          pod.getSpec().getServiceAccountName() == null ? "default" : pod.getSpec().getServiceAccountName(),
          pod.getMetadata().getName(),
          pod.getMetadata().getLabels() == null ? Map.of() : pod.getMetadata().getLabels()));
    }
  }
}
