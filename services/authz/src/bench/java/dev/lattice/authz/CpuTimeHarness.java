package dev.lattice.authz;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;

/**
 * The authorization benchmark's workloads timed by thread CPU time instead of wall time, for a machine
 * shared with other work (JMH's wall-clock figures then mostly measure the scheduler). Prints per
 * configuration the minimum and median CPU nanoseconds per decision over short rounds.
 * Usage: {@code java -cp ... dev.lattice.authz.CpuTimeHarness [rounds] [opsPerRound] [engines] [policy counts]}
 * [mixes] (lists comma-separated, default {@code index,linear}, {@code 5,50,500} and {@code mixed,exact}).
 */
public final class CpuTimeHarness {
  private CpuTimeHarness() {}

  /** One round: {@code ops} decisions of {@code b}; thread CPU nanoseconds per decision. */
  public static double round(AuthorizationEngineBenchmark b, int ops) {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    long sink = 0;
    long start = mx.getCurrentThreadCpuTime();
    for (int i = 0; i < ops; i++) sink += b.evaluate().ruleIndex();
    double perOp = (mx.getCurrentThreadCpuTime() - start) / (double) ops;
    return sink == 42 ? perOp + 0 : perOp;
  }

  public static void main(String[] args) {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
    int ops = args.length > 1 ? Integer.parseInt(args[1]) : 400_000;
    String[] engines = (args.length > 2 ? args[2] : "index,linear").split(",");
    int[] counts = Arrays.stream((args.length > 3 ? args[3] : "5,50,500").split(",")).mapToInt(Integer::parseInt).toArray();
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    long sink = 0;
    for (String mix : (args.length > 4 ? args[4] : "mixed,exact").split(",")) {
      for (int policies : counts) {
        for (String engine : engines) {
          AuthorizationEngineBenchmark b = new AuthorizationEngineBenchmark();
          b.mix = mix;
          b.policies = policies;
          b.engine = engine;
          b.setUp();
          for (int i = 0; i < 3 * ops; i++) sink += b.evaluate().ruleIndex();
          double[] perOp = new double[rounds];
          for (int round = 0; round < rounds; round++) {
            long start = mx.getCurrentThreadCpuTime();
            for (int i = 0; i < ops; i++) sink += b.evaluate().ruleIndex();
            perOp[round] = (mx.getCurrentThreadCpuTime() - start) / (double) ops;
          }
          Arrays.sort(perOp);
          System.out.printf("%-6s %4d %-6s  min %8.1f  median %8.1f  ns/decision (thread CPU)%n", mix, policies, engine,
              perOp[0], perOp[rounds / 2]);
        }
      }
    }
    if (sink == 42) System.out.println();
  }
}
