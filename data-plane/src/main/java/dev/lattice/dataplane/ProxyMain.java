package dev.lattice.dataplane;

import dev.lattice.dataplane.admin.AdminServer;
import dev.lattice.dataplane.config.ConfigFileException;
import dev.lattice.dataplane.stream.DistributorConfigSource;
import dev.lattice.dataplane.config.ProxyConfig;
import dev.lattice.dataplane.config.ProxyConfigFile;
import dev.lattice.dataplane.config.ProxySettings;
import dev.lattice.dataplane.identity.FileIdentitySource;
import dev.lattice.dataplane.identity.IdentitySources;
import dev.lattice.dataplane.identity.WorkloadIdentitySource;
import dev.lattice.dataplane.identity.WorkloadSelectors;
import dev.lattice.dataplane.proxy.ProxyServerOptions;
import dev.lattice.dataplane.telemetry.AccessLog;
import dev.lattice.kit.admin.AdminTokenFile;
import dev.lattice.kit.kafka.KafkaClientConfig;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code ./lattice proxy --config f.yaml}: the node proxy in file mode, serving a config file of the
 * compiled model until stopped (SIGTERM/SIGINT close it cleanly, {@code POST /drain} on the admin API
 * drains it and exits), with Istio metrics and the admin API on 127.0.0.1:15000, a JSON access log on
 * standard output, and flow records to Kafka when a broker is named.
 */
public final class ProxyMain {
  private ProxyMain() {}

  private static final String USAGE = """
      usage: lattice proxy (--config <file.yaml> | --distributor host:port[,host:port] [--node N] [--trust-domain TD]
                           [--snapshot-file F]) [--event-loops N] [--kafka host:port] [--admin-port N]
                           [--admin-token-file F] [--access-log on|off] [--drain-grace 5s]
                           [--agent-socket <admin.sock> [--workload <type:value,...>]...]
                           [--svid <chain.pem>,<key.pem>]... [--bundle <trust-domain>=<ca.pem>]...
        Serves the listeners, routes, clusters and policies of a compiled-model config file (docs/data-plane.md),
        or of the node's config streamed by the distributor (docs/config-distribution.md):
        --distributor       distributor instances (stream mode), over mTLS with the node SVID the node agent hands out
                            on --agent-socket; without an agent socket, plaintext h2c for local development (needs --node)
        --node              the node id (with an agent socket it must equal the node of the node SVID)
        --trust-domain      of the node and distributor SVIDs (default lattice.local)
        --snapshot-file     the last good streamed config, loaded on start while no distributor answers
        --agent-socket      the node agent's admin socket: the workloads' SVIDs and the bundles over its Delegated
                            Identity API (or LATTICE_AGENT_SOCKET); --workload names one workload by its selectors
        --svid, --bundle    file mode instead: the node's SVID and the trust bundles from PEM files
        --kafka (or LATTICE_KAFKA_BOOTSTRAP_SERVERS)  a flow record per request to lattice.flows.v1
        --admin-port        admin API and Istio metrics on 127.0.0.1 (default 15000; 0 = ephemeral, -1 = both off)
        --admin-token-file  token admin writes need (default .lattice/admin.token, created if missing)
        --access-log        one JSON line per request on stdout (default on)
        --drain-grace       how long POST /drain lets open connections finish (default 5s)""";

  public static void main(String[] args) throws Exception {
    Path config = null;
    int loops = 0;
    List<FileIdentitySource.SvidFiles> svids = new ArrayList<>();
    Map<String, Path> bundles = new LinkedHashMap<>();
    String agentEnv = System.getenv("LATTICE_AGENT_SOCKET");
    Path agentSocket = agentEnv == null || agentEnv.isBlank() ? null : Path.of(agentEnv);
    boolean agentFlag = false;
    List<WorkloadSelectors> workloads = new ArrayList<>();
    String kafka = System.getenv("LATTICE_KAFKA_BOOTSTRAP_SERVERS");
    int adminPort = 15000;
    Path tokenFile = Path.of(".lattice", AdminTokenFile.FILE_NAME);
    boolean accessLogOn = true;
    Duration drainGrace = Duration.ofSeconds(5);
    List<io.vertx.core.net.SocketAddress> distributors = new ArrayList<>();
    String nodeName = null;
    String trustDomain = "lattice.local";
    Path snapshotFile = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "proxy" -> { }
        case "--config", "-c" -> config = Path.of(value(args, ++i, "--config"));
        case "--event-loops" -> loops = number(value(args, ++i, "--event-loops"), "--event-loops");
        case "--svid" -> {
          String[] v = value(args, ++i, "--svid").split(",", 2);
          if (v.length != 2) {
            fail("--svid: '" + args[i] + "' (expected: <chain.pem>,<key.pem>)");
          }
          svids.add(new FileIdentitySource.SvidFiles(Path.of(v[0]), Path.of(v[1])));
        }
        case "--bundle" -> {
          String[] v = value(args, ++i, "--bundle").split("=", 2);
          if (v.length != 2 || v[0].isBlank()) {
            fail("--bundle: '" + args[i] + "' (expected: <trust-domain>=<ca.pem>)");
          }
          bundles.put(v[0], Path.of(v[1]));
        }
        case "--agent-socket" -> {
          agentSocket = Path.of(value(args, ++i, "--agent-socket"));
          agentFlag = true;
        }
        case "--workload" -> {
          try {
            workloads.add(WorkloadSelectors.parse(value(args, ++i, "--workload")));
          } catch (IllegalArgumentException e) {
            fail("--workload: " + e.getMessage());
          }
        }
        case "--distributor" -> {
          for (String hp : value(args, ++i, "--distributor").split(",")) {
            int colon = hp.lastIndexOf(':');
            if (colon <= 0) {
              fail("--distributor: '" + hp + "' (expected: host:port)");
            }
            distributors.add(io.vertx.core.net.SocketAddress.inetSocketAddress(
                number(hp.substring(colon + 1), "--distributor port"), hp.substring(0, colon)));
          }
        }
        case "--node" -> nodeName = value(args, ++i, "--node");
        case "--trust-domain" -> trustDomain = value(args, ++i, "--trust-domain");
        case "--snapshot-file" -> snapshotFile = Path.of(value(args, ++i, "--snapshot-file"));
        case "--kafka" -> kafka = value(args, ++i, "--kafka");
        case "--admin-port" -> adminPort = number(value(args, ++i, "--admin-port"), "--admin-port");
        case "--admin-token-file" -> tokenFile = Path.of(value(args, ++i, "--admin-token-file"));
        case "--access-log" -> {
          String v = value(args, ++i, "--access-log");
          if (!v.equals("on") && !v.equals("off")) {
            fail("--access-log: " + v + " (expected: on or off)");
          }
          accessLogOn = v.equals("on");
        }
        case "--drain-grace" -> drainGrace = duration(value(args, ++i, "--drain-grace"));
        case "--help", "-h" -> {
          System.out.println(USAGE);
          return;
        }
        default -> fail("unknown argument " + args[i] + " (expected: " + USAGE.lines().skip(1).findFirst().orElse("").trim()
            + " or --help)");
      }
    }
    if (config == null && distributors.isEmpty()) {
      fail("missing --config <file.yaml> or --distributor host:port");
    }
    if (config != null && !distributors.isEmpty()) {
      fail("--config and --distributor: choose one (a config file, or the config streamed by the distributor)");
    }
    if (adminPort < -1 || adminPort > 65535) {
      fail("--admin-port: " + adminPort + " (expected: -1..65535)");
    }
    ProxyConfig cfg = null;
    if (config != null) {
      try {
        cfg = ProxyConfigFile.load(config);
      } catch (ConfigFileException e) {
        fail(e.getMessage());
        return;
      }
    }
    if (!agentFlag && (!svids.isEmpty() || !bundles.isEmpty())) {
      agentSocket = null; // --svid/--bundle on the command line win over LATTICE_AGENT_SOCKET from the environment
    }
    DistributorConfigSource.Settings stream = null;
    if (!distributors.isEmpty()) {
      try {
        // the same agent socket gives the node SVID of the config stream (lattice.agent.v1.NodeIdentity)
        stream = (agentSocket == null ? DistributorConfigSource.Settings.plaintext(distributors, nodeName)
            : DistributorConfigSource.Settings.agent(distributors, agentSocket, io.spiffe.spiffeid.TrustDomain.parse(trustDomain))
                .withNode(nodeName)).withSnapshotFile(snapshotFile);
      } catch (IllegalArgumentException e) {
        fail(e.getMessage());
      }
    }
    IdentitySources.Settings identitySettings;
    try {
      identitySettings = new IdentitySources.Settings(agentSocket, workloads, svids, bundles, Duration.ofSeconds(30));
    } catch (IllegalArgumentException e) {
      fail(e.getMessage());
      return;
    }
    VertxOptions vo = new VertxOptions().setPreferNativeTransport(true);
    if (loops > 0) {
      vo.setEventLoopPoolSize(loops);
    }
    Vertx vertx = Vertx.vertx(vo);
    WorkloadIdentitySource identity;
    try {
      identity = IdentitySources.start(vertx, identitySettings, Clock.systemUTC()).await(35, TimeUnit.SECONDS);
    } catch (Exception e) {
      vertx.close();
      fail("identity: " + e.getMessage());
      return;
    }
    ProxyServerOptions options = ProxyServerOptions.defaults();
    if (identity != null) {
      options = options.withIdentitySource(identity);
      System.out.println("lattice proxy: identity from " + (agentSocket != null ? "the node agent at " + agentSocket
          : "files") + ": " + new java.util.TreeSet<>(identity.current().svids().keySet()));
    }
    NodeProxy.Options nodeOptions = NodeProxy.Options.admin(adminPort, AdminTokenFile.at(tokenFile))
        .withServer(options)
        .withKafka(kafka == null || kafka.isBlank() ? null : KafkaClientConfig.of(kafka, "data-plane"))
        .withAccessLog(accessLogOn ? AccessLog.toStdout() : null)
        .withDrainGrace(drainGrace);
    NodeProxy node;
    DistributorConfigSource source = null;
    try {
      if (stream == null) {
        node = NodeProxy.start(vertx, cfg, nodeOptions).await(30, TimeUnit.SECONDS);
      } else {
        // stream mode: the node's identity first (it names the node), then an empty proxy the stream fills
        DistributorConfigSource.Identity id;
        try {
          id = DistributorConfigSource.identity(vertx, stream, Clock.systemUTC()).await(60, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
          throw new IllegalStateException("no valid node SVID from the node agent at " + agentSocket + " within 60 s"
              + " (is the agent running, and this user an authorized delegate?)", e);
        }
        ProxySettings settings = ProxySettings.defaults(id.node());
        node = NodeProxy.start(vertx, ProxyConfig.of("empty", settings, List.of(), List.of(), List.of(), List.of(), List.of()),
            nodeOptions).await(30, TimeUnit.SECONDS);
        source = DistributorConfigSource.start(vertx, node.server(), settings, stream, id).await(60, TimeUnit.SECONDS);
      }
    } catch (Exception e) {
      if (identity != null) {
        identity.close();
      }
      vertx.close();
      fail(e.getMessage() + (e.getMessage() != null && e.getMessage().startsWith("admin API") ? " (--admin-port -1 turns it off)" : ""));
      return;
    }
    node.server().listenerAddresses().forEach((name, addr) -> System.out.println("lattice proxy: " + name + " on " + addr));
    AdminServer admin = node.admin();
    if (admin != null) {
      System.out.println("lattice proxy: admin on 127.0.0.1:" + admin.port());
      // POST /drain: once the proxy has closed, flush telemetry and exit
      vertx.setPeriodic(200, id -> {
        if (admin.drained() != null && admin.drained().isComplete()) {
          vertx.cancelTimer(id);
          new Thread(() -> System.exit(0), "lattice-proxy-exit").start();
        }
      });
    }
    DistributorConfigSource streamed = source;
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        if (streamed != null) {
          streamed.close();
        }
        node.close().eventually(() -> {
          if (identity != null) {
            identity.close();
          }
          return vertx.close();
        }).await(15, TimeUnit.SECONDS);
      } catch (Exception ignored) {
        // exiting anyway
      }
    }, "lattice-proxy-shutdown"));
  }

  private static int number(String v, String flag) {
    try {
      return Integer.parseInt(v);
    } catch (NumberFormatException e) {
      fail(flag + ": " + v + " (expected: an integer)");
      return 0;
    }
  }

  private static Duration duration(String v) {
    try {
      return Duration.parse(v.startsWith("P") ? v : "PT" + v.toUpperCase(java.util.Locale.ROOT));
    } catch (java.time.format.DateTimeParseException e) {
      fail("--drain-grace: " + v + " (expected: a duration such as 5s or 0.5s)");
      return null;
    }
  }

  private static String value(String[] args, int i, String flag) {
    if (i >= args.length) {
      fail(flag + ": missing value");
    }
    return args[i];
  }

  private static void fail(String message) {
    System.err.println("lattice proxy: " + message);
    System.exit(2);
  }
}
