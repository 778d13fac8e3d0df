package dev.lattice.testkit.architecture;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The package dependency cycles of a source tree, read from its {@code import} declarations (single-type,
 * on-demand and static) and the fully qualified class names in its code (comments aside). A test asserts
 * {@link #in} is empty so a cycle cannot come back unnoticed. Names are matched textually, so a qualified name
 * inside a string literal counts too — harmless for a test that wants none.
 */
public final class PackageCycles {
  private static final Pattern PACKAGE = Pattern.compile("^package\\s+([\\w.]+)\\s*;", Pattern.MULTILINE);
  private static final Pattern IMPORT = Pattern.compile("^import\\s+(?:static\\s+)?([\\w.]+?)(?:\\.\\*)?\\s*;",
      Pattern.MULTILINE);
  /** A fully qualified class name in code ({@code a.b.C.class}, {@code new a.b.C()}). */
  private static final Pattern QUALIFIED = Pattern.compile("\\b([a-z]\\w*(?:\\.[a-z]\\w*)+\\.[A-Z]\\w*)");
  private static final Pattern COMMENT = Pattern.compile("/\\*.*?\\*/|//[^\\n]*", Pattern.DOTALL);

  private PackageCycles() {}

  /**
   * Every cycle among the packages of the {@code .java} files under {@code sourceRoot}, each as its packages
   * in dependency order ending where it started ({@code a -> b -> a}); only dependencies on packages that have
   * sources under the root count.
   */
  public static List<String> in(Path sourceRoot) {
    Map<String, Set<String>> imports = new TreeMap<>();
    try (Stream<Path> files = Files.walk(sourceRoot)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        String text = Files.readString(f);
        Matcher pkg = PACKAGE.matcher(text);
        if (!pkg.find()) continue;
        Set<String> to = imports.computeIfAbsent(pkg.group(1), k -> new TreeSet<>());
        Matcher imp = IMPORT.matcher(text);
        while (imp.find()) to.add(imp.group(1));
        Matcher qualified = QUALIFIED.matcher(COMMENT.matcher(text.substring(pkg.end())).replaceAll(" "));
        while (qualified.find()) to.add(qualified.group(1));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Map<String, Set<String>> graph = new TreeMap<>();
    for (Map.Entry<String, Set<String>> e : imports.entrySet()) {
      Set<String> deps = new TreeSet<>();
      for (String name : e.getValue()) {
        String target = owningPackage(name, imports.keySet());
        if (target != null && !target.equals(e.getKey())) deps.add(target);
      }
      graph.put(e.getKey(), deps);
    }
    return cycles(graph);
  }

  /** The longest known package that {@code name} (a class, nested class or member) lives in, or null. */
  private static String owningPackage(String name, Set<String> packages) {
    for (String n = name; n.contains("."); n = n.substring(0, n.lastIndexOf('.'))) {
      if (packages.contains(n)) return n; // n == name: an on-demand import of the package
    }
    return null;
  }

  /** One cycle per strongly connected component with more than one package (Tarjan), as a path. */
  private static List<String> cycles(Map<String, Set<String>> graph) {
    Map<String, Integer> index = new HashMap<>();
    Map<String, Integer> low = new HashMap<>();
    Deque<String> stack = new ArrayDeque<>();
    Set<String> onStack = new TreeSet<>();
    List<String> out = new ArrayList<>();
    int[] counter = {0};
    for (String v : graph.keySet()) {
      if (!index.containsKey(v)) connect(v, graph, index, low, stack, onStack, counter, out);
    }
    return out;
  }

  private static void connect(String v, Map<String, Set<String>> graph, Map<String, Integer> index,
      Map<String, Integer> low, Deque<String> stack, Set<String> onStack, int[] counter, List<String> out) {
    index.put(v, counter[0]);
    low.put(v, counter[0]++);
    stack.push(v);
    onStack.add(v);
    for (String w : graph.getOrDefault(v, Set.of())) {
      if (!index.containsKey(w)) {
        connect(w, graph, index, low, stack, onStack, counter, out);
        low.put(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.contains(w)) {
        low.put(v, Math.min(low.get(v), index.get(w)));
      }
    }
    if (!low.get(v).equals(index.get(v))) return;
    Set<String> component = new TreeSet<>();
    String w;
    do {
      w = stack.pop();
      onStack.remove(w);
      component.add(w);
    } while (!w.equals(v));
    if (component.size() > 1) out.add(path(component, graph));
  }

  /** A cycle through the component's first package, found breadth-first inside the component. */
  private static String path(Set<String> component, Map<String, Set<String>> graph) {
    String start = component.iterator().next();
    Map<String, String> parent = new HashMap<>();
    Deque<String> queue = new ArrayDeque<>(List.of(start));
    while (!queue.isEmpty()) {
      String v = queue.poll();
      for (String w : graph.get(v)) {
        if (!component.contains(w)) continue;
        if (w.equals(start)) {
          List<String> chain = new ArrayList<>(List.of(start));
          for (String p = v; p != null; p = parent.get(p)) chain.add(0, p);
          return String.join(" -> ", chain);
        }
        if (!parent.containsKey(w) && !w.equals(start)) {
          parent.put(w, v);
          queue.add(w);
        }
      }
    }
    return String.join(" <-> ", component);
  }
}
