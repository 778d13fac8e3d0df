package dev.lattice.dataplane.route;

import dev.lattice.events.policy.HeaderOperations;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * One level of Istio's {@code Headers.HeaderOperations} compiled once: {@code remove} first, then
 * {@code set} (replace or add) and {@code add} (append), in that order — Envoy's order within one
 * level. Values are literal (Envoy's {@code %VAR%} substitutions are not interpreted). Immutable.
 */
public final class HeaderMutation {
  /** Headers that frame the message or the connection: changing them would corrupt the stream, not shape it. */
  private static final Set<String> FORBIDDEN = Set.of("content-length", "transfer-encoding", "connection", "keep-alive",
      "upgrade", "te", "trailer", "proxy-connection");
  private static final HeaderMutation NONE = new HeaderMutation(List.of(), List.of(), List.of());

  private final List<String> remove;
  private final List<Map.Entry<String, String>> set;
  private final List<Map.Entry<String, String>> add;

  private HeaderMutation(List<String> remove, List<Map.Entry<String, String>> set, List<Map.Entry<String, String>> add) {
    this.remove = remove;
    this.set = set;
    this.add = add;
  }

  /** Nothing to do. */
  public static HeaderMutation none() {
    return NONE;
  }

  /**
   * Compiles {@code ops} ({@code null} = none); {@code where} names the route and side for errors. A
   * pseudo-header, a framing header or removing {@code host} is refused.
   */
  public static HeaderMutation of(HeaderOperations ops, String where) {
    if (ops == null || (ops.getSet().isEmpty() && ops.getAdd().isEmpty() && ops.getRemove().isEmpty())) {
      return NONE;
    }
    List<String> remove = new ArrayList<>();
    for (String name : ops.getRemove()) {
      String n = check(name, where + ".remove");
      if (n.equals("host")) {
        throw new IllegalArgumentException(where + ".remove: host (expected: rewrite.authority to change the host; it cannot be removed)");
      }
      remove.add(n);
    }
    return new HeaderMutation(List.copyOf(remove), entries(ops.getSet(), where + ".set"), entries(ops.getAdd(), where + ".add"));
  }

  private static List<Map.Entry<String, String>> entries(Map<String, String> m, String where) {
    List<Map.Entry<String, String>> out = new ArrayList<>();
    // sorted so a header set twice under different cases behaves the same on every node
    m.entrySet().stream().sorted(Map.Entry.comparingByKey())
        .forEach(e -> out.add(Map.entry(check(e.getKey(), where), value(e.getValue(), where + "." + e.getKey()))));
    return List.copyOf(out);
  }

  private static String value(String v, String where) {
    if (v == null) {
      return "";
    }
    if (v.indexOf('\r') >= 0 || v.indexOf('\n') >= 0 || v.indexOf('\0') >= 0) {
      throw new IllegalArgumentException(where + ": value contains CR, LF or NUL (expected: one header line)");
    }
    return v;
  }

  private static String check(String name, String where) {
    String n = name == null ? "" : name.toLowerCase(Locale.ROOT);
    if (n.isEmpty() || n.startsWith(":")) {
      throw new IllegalArgumentException(where + ": header \"" + name + "\" (expected: a header name, not empty or a pseudo-header)");
    }
    if (FORBIDDEN.contains(n)) {
      throw new IllegalArgumentException(where + ": header " + n + " frames the message (expected: an end-to-end header)");
    }
    for (int i = 0; i < n.length(); i++) {
      char c = n.charAt(i);
      if (c <= ' ' || c >= 127 || "\"(),/:;<=>?@[\\]{}".indexOf(c) >= 0) {
        throw new IllegalArgumentException(where + ": header \"" + name + "\" (expected: an HTTP token)");
      }
    }
    return n;
  }

  /** True when applying changes nothing. */
  public boolean isEmpty() {
    return this == NONE;
  }

  /** Applies the operations to {@code h}. */
  public void apply(HttpHeaders h) {
    for (String n : remove) {
      h.remove(n);
    }
    for (Map.Entry<String, String> e : set) {
      h.set(e.getKey(), e.getValue());
    }
    for (Map.Entry<String, String> e : add) {
      h.add(e.getKey(), e.getValue());
    }
  }
}
