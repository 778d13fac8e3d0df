package dev.lattice.dataplane;

import dev.lattice.dataplane.config.ConfigFileException;
import dev.lattice.dataplane.config.ProxyConfig;
import dev.lattice.dataplane.config.ProxyConfigFile;
import dev.lattice.dataplane.proxy.ProxyServer;
import dev.lattice.dataplane.proxy.ProxyServerOptions;
import dev.lattice.dataplane.telemetry.FlowExporter;
import dev.lattice.dataplane.telemetry.FlowSink;
import dev.lattice.dataplane.telemetry.ProxyTelemetry;
import dev.lattice.kit.kafka.KafkaClientConfig;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import dev.lattice.dataplane.identity.FileIdentitySource;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code ./lattice proxy --config f.yaml}: the node proxy in file mode, serving a config file of the
 * compiled model until stopped (SIGTERM/SIGINT close it cleanly).
 */
public final class ProxyMain {
  private ProxyMain() {}

  public static void main(String[] args) throws Exception {
    Path config = null;
    int loops = 0;
    List<FileIdentitySource.SvidFiles> svids = new ArrayList<>();
    Map<String, Path> bundles = new LinkedHashMap<>();
    String kafka = System.getenv("LATTICE_KAFKA_BOOTSTRAP_SERVERS");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "proxy" -> { }
        case "--config", "-c" -> config = Path.of(value(args, ++i, "--config"));
        case "--event-loops" -> loops = Integer.parseInt(value(args, ++i, "--event-loops"));
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
        case "--kafka" -> kafka = value(args, ++i, "--kafka");
        case "--help", "-h" -> {
          System.out.println("usage: lattice proxy --config <file.yaml> [--event-loops N] [--kafka host:port]\n"
              + "  Serves the listeners, routes, clusters and policies of a compiled-model config file (docs/data-plane.md).\n"
              + "  --kafka (or LATTICE_KAFKA_BOOTSTRAP_SERVERS) streams a flow record per request to lattice.flows.v1.");
          return;
        }
        default -> fail("unknown argument " + args[i] + " (expected: --config <file>, --event-loops N, --kafka host:port, --help)");
      }
    }
    if (config == null) {
      fail("missing --config <file.yaml>");
    }
    ProxyConfig cfg;
    try {
      cfg = ProxyConfigFile.load(config);
    } catch (ConfigFileException e) {
      fail(e.getMessage());
      return;
    }
    ProxyServerOptions options = ProxyServerOptions.defaults();
    if (!svids.isEmpty() || !bundles.isEmpty()) {
      try {
        options = options.withIdentitySource(FileIdentitySource.load(svids, bundles));
      } catch (IllegalArgumentException e) {
        fail(e.getMessage());
      }
    }
    VertxOptions vo = new VertxOptions().setPreferNativeTransport(true);
    if (loops > 0) {
      vo.setEventLoopPoolSize(loops);
    }
    Vertx vertx = Vertx.vertx(vo);
    FlowExporter flows = kafka == null || kafka.isBlank() ? null
        : FlowExporter.toFlowsTopic(KafkaClientConfig.of(kafka, "data-plane"), FlowExporter.Options.DEFAULTS);
    AtomicReference<ProxyServer> running = new AtomicReference<>();
    List<FlowSink> sinks = flows == null ? List.of() : List.of(flows::offer);
    ProxyTelemetry telemetry = new ProxyTelemetry(() -> running.get() == null ? null : running.get().config(), sinks);
    ProxyServer server;
    try {
      server = ProxyServer.start(vertx, cfg, options.withExchangeListener(telemetry)).await(30, TimeUnit.SECONDS);
      running.set(server);
    } catch (Exception e) {
      vertx.close();
      fail(e.getMessage());
      return;
    }
    server.listenerAddresses().forEach((name, addr) -> System.out.println("lattice proxy: " + name + " on " + addr));
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        server.close().compose(v -> vertx.close()).await(10, TimeUnit.SECONDS);
      } catch (Exception ignored) {
        // exiting anyway
      }
      if (flows != null) {
        flows.close();
      }
    }, "lattice-proxy-shutdown"));
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
