package dev.lattice.authz;

import java.io.File;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Two builds of the engine side by side in one JVM: each variant's classes in their own class loader, the
 * benchmark workloads of {@link AuthorizationEngineBenchmark} timed by {@link CpuTimeHarness#round}, rounds
 * interleaved across variants so both see the same machine load. For comparing a change with its parent on a
 * shared machine.
 *
 * <p>Usage: {@code java -cp <this module's bench classpath> dev.lattice.authz.CpuTimeAb <dependency classpath>
 * <bench classes dir> <name=classes dir,...> <mix:policies:engine,...> <rounds> <ops per round>}; the bench
 * classes dir must not contain the engine's own classes (compile the module's main classes of each commit into
 * its own directory).
 */
public final class CpuTimeAb {
  private CpuTimeAb() {}

  public static void main(String[] args) throws Exception {
    List<URL> deps = new ArrayList<>();
    for (String p : args[0].split(File.pathSeparator)) deps.add(new File(p).toURI().toURL());
    ClassLoader parent = new URLClassLoader(deps.toArray(new URL[0]), ClassLoader.getPlatformClassLoader());
    URL bench = new File(args[1]).toURI().toURL();
    int rounds = Integer.parseInt(args[4]);
    int ops = Integer.parseInt(args[5]);
    Map<String, Object[]> runs = new LinkedHashMap<>();
    for (String config : args[3].split(",")) {
      String[] c = config.split(":");
      for (String variant : args[2].split(",")) {
        String[] nameDir = variant.split("=", 2);
        ClassLoader loader = new URLClassLoader(new URL[] {bench, new File(nameDir[1]).toURI().toURL()}, parent);
        Class<?> type = loader.loadClass(AuthorizationEngineBenchmark.class.getName());
        Object b = type.getConstructor().newInstance();
        type.getField("mix").set(b, c[0]);
        type.getField("policies").setInt(b, Integer.parseInt(c[1]));
        type.getField("engine").set(b, c[2]);
        type.getMethod("setUp").invoke(b);
        Method round = loader.loadClass(CpuTimeHarness.class.getName()).getMethod("round", type, int.class);
        runs.put(config + " " + nameDir[0], new Object[] {b, round});
      }
    }
    Map<String, List<Double>> perOp = new LinkedHashMap<>();
    for (Map.Entry<String, Object[]> run : runs.entrySet()) {
      ((Method) run.getValue()[1]).invoke(null, run.getValue()[0], 3 * ops); // warm-up
      perOp.put(run.getKey(), new ArrayList<>());
    }
    for (int r = 0; r < rounds; r++) {
      for (Map.Entry<String, Object[]> run : runs.entrySet()) {
        perOp.get(run.getKey()).add((Double) ((Method) run.getValue()[1]).invoke(null, run.getValue()[0], ops));
      }
    }
    for (Map.Entry<String, List<Double>> e : perOp.entrySet()) {
      List<Double> v = e.getValue();
      Collections.sort(v);
      System.out.printf("%-24s min %8.1f  p25 %8.1f  median %8.1f  ns/decision (thread CPU)%n", e.getKey(), v.get(0),
          v.get(v.size() / 4), v.get(v.size() / 2));
    }
  }
}
