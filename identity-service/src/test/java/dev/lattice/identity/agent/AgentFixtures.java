package dev.lattice.identity.agent;

import dev.lattice.identity.agent.attestor.Selector;
import dev.lattice.identity.agent.authority.AgentEntry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.transport.Transport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/** Shared bits of the agent tests. */
final class AgentFixtures {

  static final String TRUST_DOMAIN = "lattice.local";

  private AgentFixtures() {}

  /** A Vert.x on the epoll transport (the Workload API needs it for peer credentials). */
  static Vertx epollVertx() {
    Vertx vertx = Vertx.builder().with(new VertxOptions().setEventLoopPoolSize(1))
        .withTransport(Transport.EPOLL).build();
    if (!vertx.isNativeTransportEnabled()) {
      throw new IllegalStateException("epoll unavailable", vertx.unavailableNativeTransportCause());
    }
    return vertx;
  }

  /** This test JVM's uid, as the kernel reports it to the agent. */
  static int myUid() throws IOException {
    return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
  }

  static AgentEntry entry(String id, String path, Set<Selector> selectors, int x509Ttl) {
    return new AgentEntry(id, "spiffe://" + TRUST_DOMAIN + path, selectors, x509Ttl, 300, List.of(), "", 1);
  }

  /** A short socket path (sun_path is limited to 108 bytes; target/ paths can be long). */
  static Path shortSocketPath(String name) throws IOException {
    Path dir = Files.createTempDirectory(Path.of("/tmp"), "lattice-agent-");
    dir.toFile().deleteOnExit();
    return dir.resolve(name);
  }
}
