package dev.lattice.authz;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The rules of one policy group (e.g. the enforced DENY policies, for HTTP) arranged so a request tries
 * only rules that can match it. Every rule has a global evaluation order (policies by namespace/name, then
 * rule index); {@link #first} returns the matching rule with the lowest order — the same answer as a linear
 * scan. A rule is filed under the first hint it has: the exact peer principals it requires, else the exact
 * or prefix paths it requires, else the ports it requires, else it is always tried. Lookups allocate
 * nothing. Immutable and thread-safe.
 */
final class RuleIndex {

  /** One rule of one policy, with its prebuilt decision. */
  static final class Entry {
    final int order;
    final CompiledRule rule;
    final Decision decision;
    final Decision.Outcome outcome;
    final Decision.Match match;

    Entry(int order, CompiledRule rule, Decision decision) {
      this.order = order;
      this.rule = rule;
      this.decision = decision;
      this.outcome = decision.outcome();
      this.match = new Decision.Match(decision.policy(), decision.ruleIndex());
    }
  }

  private static final Entry[] NONE = new Entry[0];

  private final Entry[] all;
  private final boolean indexed;
  private final Map<String, Entry[]> byPrincipal;
  private final Map<String, Entry[]> byExactPath;
  private final PrefixTrie byPathPrefix;
  private final PortMap byPort;
  private final Entry[] unindexed;

  /**
   * @param entries in evaluation order (ascending {@code order}); rules that can never match are left out
   * @param indexed false for a plain linear scan (the reference the index is measured against)
   */
  RuleIndex(List<Entry> entries, boolean indexed) {
    List<Entry> live = entries.stream().filter(e -> !e.rule.never).toList();
    this.all = live.toArray(NONE);
    this.indexed = indexed;
    Map<String, List<Entry>> principals = new HashMap<>();
    Map<String, List<Entry>> exactPaths = new HashMap<>();
    TreeMap<String, List<Entry>> prefixPaths = new TreeMap<>();
    Map<Integer, List<Entry>> ports = new HashMap<>();
    List<Entry> rest = new ArrayList<>();
    for (Entry e : live) {
      CompiledRule r = e.rule;
      if (!indexed) {
        rest.add(e);
      } else if (r.requiredPrincipals != null) {
        for (String p : r.requiredPrincipals) addOnce(principals.computeIfAbsent(p, k -> new ArrayList<>()), e);
      } else if (r.requiredPaths != null) {
        for (StringPattern p : r.requiredPaths) {
          Map<String, List<Entry>> target = p.kind == StringPattern.Kind.EXACT ? exactPaths : prefixPaths;
          addOnce(target.computeIfAbsent(p.text, k -> new ArrayList<>()), e);
        }
      } else if (r.requiredPorts != null) {
        for (int p : r.requiredPorts) addOnce(ports.computeIfAbsent(p, k -> new ArrayList<>()), e);
      } else {
        rest.add(e);
      }
    }
    this.byPrincipal = freeze(principals);
    this.byExactPath = freeze(exactPaths);
    this.byPathPrefix = prefixPaths.isEmpty() ? null : new PrefixTrie(prefixPaths);
    this.byPort = ports.isEmpty() ? null : new PortMap(ports);
    this.unindexed = rest.toArray(NONE);
  }

  boolean isEmpty() {
    return all.length == 0;
  }

  /** Every rule, in order (audits report every matching policy, so they scan them all). */
  Entry[] all() {
    return all;
  }

  /** The matching rule with the lowest order, or null. */
  Entry first(AuthzRequest r) {
    if (all.length == 0) return null;
    Entry best = scan(unindexed, r, null);
    if (indexed) {
      if (!byPrincipal.isEmpty() && r.peer() != null) best = scan(byPrincipal.get(r.peer().spiffeId()), r, best);
      String path = r.path();
      if (path != null) {
        if (!byExactPath.isEmpty()) best = scan(byExactPath.get(path), r, best);
        if (byPathPrefix != null) best = byPathPrefix.scanPrefixes(path, r, best);
      }
      if (byPort != null) best = scan(byPort.get(r.destinationPort()), r, best);
    }
    return best;
  }

  /** The first match in {@code list} if it comes before {@code best}, else {@code best}. */
  static Entry scan(Entry[] list, AuthzRequest r, Entry best) {
    if (list == null) return best;
    int limit = best == null ? Integer.MAX_VALUE : best.order;
    for (Entry e : list) {
      if (e.order >= limit) return best;
      if (e.rule.matches(r)) return e;
    }
    return best;
  }

  private static void addOnce(List<Entry> list, Entry e) {
    if (list.isEmpty() || list.get(list.size() - 1) != e) list.add(e);
  }

  private static Map<String, Entry[]> freeze(Map<String, List<Entry>> m) {
    Map<String, Entry[]> out = new HashMap<>(Math.max(4, m.size() * 2));
    m.forEach((k, v) -> out.put(k, v.toArray(NONE)));
    return out;
  }

  /** Rules by the path prefixes they require: a character trie walked along the request path. */
  private static final class PrefixTrie {
    private final Node root = new Node();

    PrefixTrie(TreeMap<String, List<Entry>> byPrefix) {
      Map<Node, TreeMap<Character, Node>> building = new HashMap<>();
      byPrefix.forEach((prefix, entries) -> {
        Node n = root;
        for (int i = 0; i < prefix.length(); i++) {
          n = building.computeIfAbsent(n, x -> new TreeMap<>()).computeIfAbsent(prefix.charAt(i), c -> new Node());
        }
        n.entries = entries.toArray(NONE);
      });
      building.forEach((node, children) -> {
        node.keys = new char[children.size()];
        node.children = new Node[children.size()];
        int i = 0;
        for (Map.Entry<Character, Node> c : children.entrySet()) {
          node.keys[i] = c.getKey();
          node.children[i++] = c.getValue();
        }
      });
    }

    Entry scanPrefixes(String path, AuthzRequest r, Entry best) {
      Node n = root;
      int i = 0;
      while (n != null) {
        if (n.entries != null) best = scan(n.entries, r, best);
        if (i == path.length() || n.keys == null) return best;
        int k = Arrays.binarySearch(n.keys, path.charAt(i++));
        n = k < 0 ? null : n.children[k];
      }
      return best;
    }

    private static final class Node {
      char[] keys;
      Node[] children;
      Entry[] entries;
    }
  }

  /** Rules by required port: open addressing over int keys (no boxing on lookup). */
  private static final class PortMap {
    private final int[] keys;
    private final Entry[][] values;
    private final int mask;

    PortMap(Map<Integer, List<Entry>> m) {
      int cap = Integer.highestOneBit(Math.max(4, m.size() * 4) - 1) << 1;
      keys = new int[cap];
      Arrays.fill(keys, Integer.MIN_VALUE);
      values = new Entry[cap][];
      mask = cap - 1;
      m.forEach((port, entries) -> {
        int i = mix(port) & mask;
        while (keys[i] != Integer.MIN_VALUE) i = (i + 1) & mask;
        keys[i] = port;
        values[i] = entries.toArray(NONE);
      });
    }

    Entry[] get(int port) {
      int i = mix(port) & mask;
      while (keys[i] != Integer.MIN_VALUE) {
        if (keys[i] == port) return values[i];
        i = (i + 1) & mask;
      }
      return null;
    }

    private static int mix(int x) {
      return x * 0x9E3779B9;
    }
  }
}
