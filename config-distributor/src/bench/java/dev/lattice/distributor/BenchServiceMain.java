package dev.lattice.distributor;

import dev.lattice.kit.service.LatticeService;
import dev.lattice.kit.service.ServiceMain;
import java.util.Arrays;

/**
 * Runs any Lattice service by class name in its own JVM, for the convergence benchmark: the policy service
 * (REST + compiler) lives in policy-service, which config-distributor must not import, so the benchmark starts
 * it on policy-service's classpath through this class.
 */
public final class BenchServiceMain {
  private BenchServiceMain() {}

  public static void main(String[] args) throws Exception {
    LatticeService service = (LatticeService) Class.forName(args[0]).getConstructor().newInstance();
    ServiceMain.run(Arrays.copyOfRange(args, 1, args.length), service);
  }
}
