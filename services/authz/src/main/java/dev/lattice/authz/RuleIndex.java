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
 * scan. Each rule is filed under its {@link IndexHint}: the peer principal, the peer namespace or the path
 * it requires (exact values in a hash map, prefixes and template literals in a trie walked along the value,
 * suffixes in a trie walked back from its end), else the ports it requires; a rule without a hint is always
 * tried. Lookups allocate nothing. Immutable and thread-safe.
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
  private final PatternIndex byPrincipal;
  private final PatternIndex byNamespace;
  private final PatternIndex byPath;
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
    PatternIndex.Builder principals = new PatternIndex.Builder(PeerIdentity.SCHEME);
    PatternIndex.Builder namespaces = new PatternIndex.Builder("");
    PatternIndex.Builder paths = new PatternIndex.Builder("");
    Map<Integer, List<Entry>> ports = new HashMap<>();
    List<Entry> rest = new ArrayList<>();
    for (Entry e : live) {
      IndexHint hint = indexed ? e.rule.hint : null;
      if (hint == null) {
        rest.add(e);
        continue;
      }
      switch (hint.attribute()) {
        case PRINCIPAL -> principals.add(hint.patterns(), e);
        case NAMESPACE -> namespaces.add(hint.patterns(), e);
        case PATH -> paths.add(hint.patterns(), e);
        case PORT -> {
          for (int p : hint.ports()) addOnce(ports.computeIfAbsent(p, k -> new ArrayList<>()), e);
        }
      }
    }
    this.byPrincipal = principals.build();
    this.byNamespace = namespaces.build();
    this.byPath = paths.build();
    this.byPort = ports.isEmpty() ? null : new PortMap(ports);
    this.unindexed = rest.toArray(NONE);
  }

  boolean isEmpty() {
    return all.length == 0;
  }

  /** The matching rule with the lowest order, or null. */
  Entry first(AuthzRequest r) {
    if (all.length == 0) return null;
    Entry best = scan(unindexed, r, null);
    if (indexed) {
      PeerIdentity peer = r.peer();
      if (peer != null) {
        String principal = peer.spiffeId();
        if (byPrincipal != null) {
          int offset = principal.startsWith(PeerIdentity.SCHEME) ? PeerIdentity.SCHEME.length() : 0;
          best = byPrincipal.scan(principal, offset, r, best);
        }
        if (byNamespace != null && peer.namespace() != null) best = byNamespace.scan(peer.namespace(), 0, r, best);
      }
      if (byPath != null && r.path() != null) best = byPath.scan(r.path(), 0, r, best);
      if (byPort != null) best = scan(byPort.get(r.destinationPort()), r, best);
    }
    return best;
  }

  /**
   * Every matching rule, one per policy (its first matching rule), in evaluation order — what AUDIT
   * policies report. Tries only the rules the request leads to; allocates only when something matches.
   */
  List<Decision.Match> allMatches(AuthzRequest r) {
    if (all.length == 0) return List.of();
    List<Entry> found = collect(indexed ? unindexed : all, r, null);
    if (indexed) {
      PeerIdentity peer = r.peer();
      if (peer != null) {
        String principal = peer.spiffeId();
        if (byPrincipal != null) {
          int offset = principal.startsWith(PeerIdentity.SCHEME) ? PeerIdentity.SCHEME.length() : 0;
          found = byPrincipal.collect(principal, offset, r, found);
        }
        if (byNamespace != null && peer.namespace() != null) found = byNamespace.collect(peer.namespace(), 0, r, found);
      }
      if (byPath != null && r.path() != null) found = byPath.collect(r.path(), 0, r, found);
      if (byPort != null) found = collect(byPort.get(r.destinationPort()), r, found);
    }
    if (found == null) return List.of();
    found.sort((a, b) -> Integer.compare(a.order, b.order));
    List<Decision.Match> out = new ArrayList<>(found.size());
    PolicyRef last = null;
    for (Entry e : found) {
      PolicyRef policy = e.match.policy();
      if (!policy.equals(last)) out.add(e.match);
      last = policy;
    }
    return out;
  }

  /** Adds every match in {@code list} to {@code found} (created on the first match). */
  static List<Entry> collect(Entry[] list, AuthzRequest r, List<Entry> found) {
    if (list == null) return found;
    for (Entry e : list) {
      if (e.rule.matches(r)) {
        if (found == null) found = new ArrayList<>(4);
        found.add(e);
      }
    }
    return found;
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

  /** Rules keyed by one string attribute: exact values, prefixes (and template literals), suffixes. */
  private static final class PatternIndex {
    private final Map<String, Entry[]> exact;
    private final Trie prefixes;
    private final Trie suffixes;

    private PatternIndex(Map<String, Entry[]> exact, Trie prefixes, Trie suffixes) {
      this.exact = exact;
      this.prefixes = prefixes;
      this.suffixes = suffixes;
    }

    /** Scans the rules {@code value} (matched from {@code offset} on) leads to. */
    Entry scan(String value, int offset, AuthzRequest r, Entry best) {
      if (exact != null) best = RuleIndex.scan(exact.get(value), r, best);
      if (prefixes != null) best = prefixes.scanForward(value, offset, r, best);
      if (suffixes != null) best = suffixes.scanBackward(value, offset, r, best);
      return best;
    }

    /** Adds every match among the rules {@code value} leads to. */
    List<Entry> collect(String value, int offset, AuthzRequest r, List<Entry> found) {
      if (exact != null) found = RuleIndex.collect(exact.get(value), r, found);
      if (prefixes != null) found = prefixes.collectForward(value, offset, r, found);
      if (suffixes != null) found = suffixes.collectBackward(value, offset, r, found);
      return found;
    }

    static final class Builder {
      private final String exactKeyPrefix;
      private final Map<String, List<Entry>> exact = new HashMap<>();
      private final Map<String, List<Entry>> prefixes = new HashMap<>();
      private final Map<String, List<Entry>> suffixes = new HashMap<>();

      /** @param exactKeyPrefix prepended to exact patterns so lookups use the request's value as is */
      Builder(String exactKeyPrefix) {
        this.exactKeyPrefix = exactKeyPrefix;
      }

      void add(List<StringPattern> patterns, Entry e) {
        for (StringPattern p : patterns) {
          switch (p.kind) {
            case EXACT -> addOnce(exact.computeIfAbsent(exactKeyPrefix + p.text, k -> new ArrayList<>()), e);
            case PREFIX, TEMPLATE -> addOnce(prefixes.computeIfAbsent(IndexHint.literal(p), k -> new ArrayList<>()), e);
            case SUFFIX -> addOnce(suffixes.computeIfAbsent(new StringBuilder(p.text).reverse().toString(),
                k -> new ArrayList<>()), e);
            default -> throw new IllegalArgumentException("not indexable: " + p);
          }
        }
      }

      PatternIndex build() {
        if (exact.isEmpty() && prefixes.isEmpty() && suffixes.isEmpty()) return null;
        return new PatternIndex(exact.isEmpty() ? null : freeze(exact), prefixes.isEmpty() ? null : new Trie(prefixes, false),
            suffixes.isEmpty() ? null : new Trie(suffixes, true));
      }
    }
  }

  private static Map<String, Entry[]> freeze(Map<String, List<Entry>> m) {
    Map<String, Entry[]> out = new HashMap<>(Math.max(4, m.size() * 2));
    m.forEach((k, v) -> out.put(k, v.toArray(NONE)));
    return out;
  }

  /**
   * Rules by literal keys in a radix trie (chains without rules or branches collapsed into one label,
   * compared with one {@code regionMatches}). Walked forward along a value (keys are prefixes) or backward
   * from its end (keys are suffixes, inserted reversed); each node on the way holds the rules of the key it
   * spells.
   */
  private static final class Trie {
    private final Node root;

    /** @param byKey rules by key, keys reversed for a backward trie */
    Trie(Map<String, List<Entry>> byKey, boolean backward) {
      Building top = new Building();
      byKey.forEach((key, entries) -> {
        Building n = top;
        for (int i = 0; i < key.length(); i++) n = n.children.computeIfAbsent(key.charAt(i), c -> new Building());
        n.entries = entries.toArray(NONE);
      });
      this.root = freeze(top, "", backward);
    }

    /** @param consumed the characters consumed, in walk order, from the parent to this node */
    private static Node freeze(Building b, String consumed, boolean backward) {
      Node n = new Node();
      // a backward walk compares the label against the value in reading order, so store it un-reversed
      n.label = backward ? new StringBuilder(consumed).reverse().toString() : consumed;
      n.entries = b.entries;
      if (b.children.isEmpty()) return n;
      n.keys = new char[b.children.size()];
      n.children = new Node[b.children.size()];
      int i = 0;
      for (Map.Entry<Character, Building> c : b.children.entrySet()) {
        StringBuilder chain = new StringBuilder().append(c.getKey().charValue());
        Building child = c.getValue();
        while (child.entries == null && child.children.size() == 1) {
          Map.Entry<Character, Building> only = child.children.firstEntry();
          chain.append(only.getKey().charValue());
          child = only.getValue();
        }
        n.keys[i] = c.getKey();
        n.children[i++] = freeze(child, chain.toString(), backward);
      }
      return n;
    }

    /** The child of {@code n} the value continues into at {@code i} (forward), or null. */
    private static Node forward(Node n, String value, int i) {
      if (n.keys == null || i == value.length()) return null;
      int k = Arrays.binarySearch(n.keys, value.charAt(i));
      if (k < 0) return null;
      Node c = n.children[k];
      return value.regionMatches(i, c.label, 0, c.label.length()) ? c : null;
    }

    /** The child of {@code n} the value continues into backward from its end at {@code i}, or null. */
    private static Node backward(Node n, String value, int i, int offset) {
      if (n.keys == null || i == offset) return null;
      int k = Arrays.binarySearch(n.keys, value.charAt(i - 1));
      if (k < 0) return null;
      Node c = n.children[k];
      int start = i - c.label.length();
      return start >= offset && value.regionMatches(start, c.label, 0, c.label.length()) ? c : null;
    }

    Entry scanForward(String value, int offset, AuthzRequest r, Entry best) {
      int i = offset;
      for (Node n = root; n != null; n = forward(n, value, i)) {
        i += n.label.length();
        if (n.entries != null) best = scan(n.entries, r, best);
      }
      return best;
    }

    Entry scanBackward(String value, int offset, AuthzRequest r, Entry best) {
      int i = value.length();
      for (Node n = root; n != null; n = backward(n, value, i, offset)) {
        i -= n.label.length();
        if (n.entries != null) best = scan(n.entries, r, best);
      }
      return best;
    }

    List<Entry> collectForward(String value, int offset, AuthzRequest r, List<Entry> found) {
      int i = offset;
      for (Node n = root; n != null; n = forward(n, value, i)) {
        i += n.label.length();
        if (n.entries != null) found = collect(n.entries, r, found);
      }
      return found;
    }

    List<Entry> collectBackward(String value, int offset, AuthzRequest r, List<Entry> found) {
      int i = value.length();
      for (Node n = root; n != null; n = backward(n, value, i, offset)) {
        i -= n.label.length();
        if (n.entries != null) found = collect(n.entries, r, found);
      }
      return found;
    }

    private static final class Building {
      final TreeMap<Character, Building> children = new TreeMap<>();
      Entry[] entries;
    }

    private static final class Node {
      String label;
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
