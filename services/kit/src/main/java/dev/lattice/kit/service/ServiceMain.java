package dev.lattice.kit.service;

import dev.lattice.kit.config.ConfigException;
import dev.lattice.kit.config.LatticeConfig;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Entry point for a standalone service process: {@code public static void main(String[] args) {
 * ServiceMain.run(args, new PolicyService()); }}.
 *
 * <p>Loads {@link LatticeConfig} from {@code args} ({@code --key=value}) and the environment, starts the
 * service with a {@link ServiceLauncher}, and stops it from a shutdown hook (Ctrl-C, SIGTERM). Exit
 * codes: 2 for bad configuration (a {@link ConfigException} anywhere in the failure), 1 when the service
 * fails to start for another reason. Not thread-safe; call once per JVM.
 */
public final class ServiceMain {

  private ServiceMain() {}

  /** Runs {@code service} until the JVM is asked to stop; returns once it has started. */
  public static void run(String[] args, LatticeService service) {
    ServiceLauncher.ensureAvroTrustedPackages();
    Logger log = LoggerFactory.getLogger(ServiceMain.class);
    LatticeConfig config;
    ServiceLauncher launcher;
    try {
      config = LatticeConfig.load(Arrays.asList(args), System.getenv());
      launcher = ServiceLauncher.create(config);
    } catch (ConfigException e) {
      log.error("invalid configuration: {}", e.getMessage());
      System.exit(2);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(launcher::close, "lattice-shutdown"));
    try {
      List<RunningService> running = launcher.start(List.of(service))
          .toCompletionStage().toCompletableFuture().get();
      RunningService r = running.get(0);
      log.atInfo().addKeyValue("service", r.name()).addKeyValue("url", r.baseUrl())
          .log("serving; readiness at {}", r.url("/readyz"));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      System.exit(1);
    } catch (ExecutionException e) {
      boolean badConfig = false;
      for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
        badConfig |= t instanceof ConfigException;
      }
      if (badConfig) {
        log.error("invalid configuration: {}", e.getCause().getMessage());
        System.exit(2);
      }
      log.error("{}", e.getCause().getMessage(), e.getCause());
      System.exit(1);
    }
  }
}
