package dev.lattice.dataplane.identity;

import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.TreeSet;

/**
 * The selectors that describe one workload of this node, as its registration entries name them
 * ({@code unix:uid:1000}, {@code k8s:ns:default}, {@code k8s:sa:web}): what the proxy asks the node
 * agent's Delegated Identity API for. Order and duplicates do not matter (kept sorted, distinct).
 * Immutable.
 */
public record WorkloadSelectors(List<String> selectors) {

  public WorkloadSelectors {
    Objects.requireNonNull(selectors, "selectors");
    TreeSet<String> sorted = new TreeSet<>();
    for (String s : selectors) {
      sorted.add(check(s));
    }
    if (sorted.isEmpty()) {
      throw new IllegalArgumentException("workload selectors: none (expected: at least one type:value, e.g. unix:uid:1000)");
    }
    selectors = List.copyOf(sorted);
  }

  /** The workload with these {@code type:value} selectors. */
  public static WorkloadSelectors of(String... selectors) {
    return new WorkloadSelectors(List.of(selectors));
  }

  /** Parses a comma-separated list: {@code "k8s:ns:default,k8s:sa:web"}. */
  public static WorkloadSelectors parse(String text) {
    return new WorkloadSelectors(text == null ? List.of()
        : java.util.Arrays.stream(text.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList());
  }

  private static String check(String selector) {
    int colon = selector == null ? -1 : selector.indexOf(':');
    if (colon <= 0 || colon == selector.length() - 1 || selector.substring(0, colon).isBlank()
        || selector.substring(colon + 1).isBlank()) {
      throw new IllegalArgumentException("selector: '" + selector + "' (expected: type:value, e.g. unix:uid:1000)");
    }
    return selector.substring(0, colon).toLowerCase(Locale.ROOT) + selector.substring(colon);
  }

  /** The type of the {@code i}-th selector (before the first ':'). */
  String type(int i) {
    String s = selectors.get(i);
    return s.substring(0, s.indexOf(':'));
  }

  /** The value of the {@code i}-th selector (after the first ':'). */
  String value(int i) {
    String s = selectors.get(i);
    return s.substring(s.indexOf(':') + 1);
  }

  @Override
  public String toString() {
    return String.join(",", selectors);
  }
}
