package dev.lattice.samples;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;

/**
 * The four sample workloads started together (and stopped together). The addresses are fixed so a proxy
 * config and a registry can name them: frontend {@value #FRONTEND}, catalog {@value #CATALOG}, ratings v1
 * {@value #RATINGS_V1}, ratings v2 {@value #RATINGS_V2}. Immutable once started.
 */
public final class SampleApp {
  public static final String FRONTEND = "127.0.0.11";
  public static final String CATALOG = "127.0.0.12";
  public static final String RATINGS_V1 = "127.0.0.13";
  public static final String RATINGS_V2 = "127.0.0.14";

  private final List<SampleWorkload> workloads;

  private SampleApp(List<SampleWorkload> workloads) {
    this.workloads = List.copyOf(workloads);
  }

  /**
   * The four specs on {@code port} (0 = ephemeral only makes sense with explicit upstreams); calls go to
   * {@code catalogVia} / {@code ratingsVia} ({@code host, port}) when given, else straight to the catalog / ratings v1.
   */
  public static List<SampleWorkload.Spec> specs(int port, String[] catalogVia, String[] ratingsVia) {
    SampleWorkload.Upstream catalog = catalogVia == null ? new SampleWorkload.Upstream(CATALOG, port, "catalog.shop:9080")
        : new SampleWorkload.Upstream(catalogVia[0], Integer.parseInt(catalogVia[1]), "catalog.shop:9080");
    SampleWorkload.Upstream ratings = ratingsVia == null ? new SampleWorkload.Upstream(RATINGS_V1, port, "ratings.shop:9080")
        : new SampleWorkload.Upstream(ratingsVia[0], Integer.parseInt(ratingsVia[1]), "ratings.shop:9080");
    return List.of(
        new SampleWorkload.Spec(SampleWorkload.Role.RATINGS, "v1", RATINGS_V1, port, null),
        new SampleWorkload.Spec(SampleWorkload.Role.RATINGS, "v2", RATINGS_V2, port, null),
        new SampleWorkload.Spec(SampleWorkload.Role.CATALOG, "v1", CATALOG, port, ratings),
        new SampleWorkload.Spec(SampleWorkload.Role.FRONTEND, "v1", FRONTEND, port, catalog));
  }

  /** Starts every spec; if one fails to bind, the others are closed and the future fails naming it. */
  public static Future<SampleApp> start(Vertx vertx, List<SampleWorkload.Spec> specs) {
    List<Future<SampleWorkload>> started = new ArrayList<>();
    for (SampleWorkload.Spec s : specs) {
      started.add(SampleWorkload.start(vertx, s).recover(err -> Future.failedFuture(new IllegalStateException(
          s.role().name().toLowerCase(java.util.Locale.ROOT) + " " + s.version() + ": cannot bind " + s.host() + ":" + s.port()
              + " (" + err.getMessage() + ")", err))));
    }
    return Future.join(started).transform(ar -> {
      List<SampleWorkload> up = new ArrayList<>();
      started.forEach(f -> {
        if (f.succeeded()) {
          up.add(f.result());
        }
      });
      if (ar.failed()) {
        return Future.all(up.stream().map(SampleWorkload::close).toList()).transform(x -> Future.failedFuture(ar.cause()));
      }
      return Future.succeededFuture(new SampleApp(up));
    });
  }

  public List<SampleWorkload> workloads() {
    return workloads;
  }

  public Future<Void> close() {
    return Future.all(workloads.stream().map(SampleWorkload::close).toList()).mapEmpty();
  }
}
