package dev.lattice.samples;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code ./lattice samples}: the demo application — frontend, catalog, ratings v1 and v2, each on its own
 * loopback address — and a bounded traffic generator against the frontend. With {@code --catalog-via} and
 * {@code --ratings-via} the calls go through a node proxy's outbound listeners (docs/examples/samples-proxy.yaml),
 * so the proxy sees, authorizes and records real meshed traffic.
 */
public final class SamplesMain {
  private SamplesMain() {}

  private static final String USAGE = """
      usage: lattice samples [--traffic N] [--rate R] [--catalog-via host:port] [--ratings-via host:port]
                             [--target host:port] [--base 127.0.0.1x]
        frontend 127.0.0.11:9080 → catalog 127.0.0.12:9080 → ratings v1 127.0.0.13:9080 / v2 127.0.0.14:9080
        --traffic N          requests the generator sends to the frontend (default 100, 0 = none)
        --rate R             requests per second (default 5)
        --catalog-via        where the frontend sends catalog calls (default: the catalog itself)
        --ratings-via        where the catalog sends ratings calls (default: ratings v1 itself)
        --target             where the generator sends (default: the frontend itself)""";

  public static void main(String[] args) throws Exception {
    long traffic = 100;
    int rate = 5;
    String catalogVia = null;
    String ratingsVia = null;
    String target = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "samples" -> { }
        case "--traffic" -> traffic = Long.parseLong(value(args, ++i, "--traffic"));
        case "--rate" -> rate = Integer.parseInt(value(args, ++i, "--rate"));
        case "--catalog-via" -> catalogVia = value(args, ++i, "--catalog-via");
        case "--ratings-via" -> ratingsVia = value(args, ++i, "--ratings-via");
        case "--target" -> target = value(args, ++i, "--target");
        case "--help", "-h" -> {
          System.out.println(USAGE);
          return;
        }
        default -> fail("unknown argument " + args[i] + " (see --help)");
      }
    }
    Vertx vertx = Vertx.vertx();
    List<SampleWorkload.Spec> specs = SampleApp.specs(9080, hostPort(catalogVia), hostPort(ratingsVia));
    SampleApp app = SampleApp.start(vertx, specs).await(30, TimeUnit.SECONDS);
    app.workloads().forEach(w -> System.out.println("lattice samples: " + w.spec().role().name().toLowerCase(java.util.Locale.ROOT)
        + " " + w.spec().version() + " on " + w.spec().host() + ":" + w.port()));
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        app.close().compose(v -> vertx.close()).await(10, TimeUnit.SECONDS);
      } catch (Exception ignored) {
        // exiting anyway
      }
    }, "lattice-samples-shutdown"));
    if (traffic > 0) {
      String[] t = hostPort(target == null ? SampleApp.FRONTEND + ":9080" : target);
      TrafficGenerator.Plan plan = new TrafficGenerator.Plan(t[0], Integer.parseInt(t[1]), "frontend.shop:9080", "/", traffic,
          rate, 16, Duration.ofSeconds(Math.max(10, traffic / rate * 2 + 10)));
      Future<TrafficGenerator.Report> report = TrafficGenerator.run(vertx, plan);
      TrafficGenerator.Report r = report.await(plan.maxDuration().toSeconds() + 30, TimeUnit.SECONDS);
      System.out.println("lattice samples: traffic done: " + r.sent() + " sent, by status " + r.byStatus()
          + (r.failures().isEmpty() ? "" : ", failures " + r.failures()) + (r.skipped() == 0 ? "" : ", skipped " + r.skipped()));
    }
    System.out.println("lattice samples: serving until stopped (Ctrl-C)");
  }

  private static String[] hostPort(String s) {
    if (s == null) {
      return null;
    }
    int colon = s.lastIndexOf(':');
    if (colon <= 0 || colon == s.length() - 1) {
      fail(s + ": expected host:port");
    }
    try {
      Integer.parseInt(s.substring(colon + 1));
    } catch (NumberFormatException e) {
      fail(s + ": port is not a number (expected host:port)");
    }
    return new String[] {s.substring(0, colon), s.substring(colon + 1)};
  }

  private static String value(String[] args, int i, String flag) {
    if (i >= args.length) {
      fail(flag + ": missing value");
    }
    return args[i];
  }

  private static void fail(String message) {
    System.err.println("lattice samples: " + message);
    System.exit(2);
  }
}
