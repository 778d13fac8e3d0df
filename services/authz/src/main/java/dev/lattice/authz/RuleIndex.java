package dev.lattice.authz;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The rules of every policy group of one protocol (enforced DENY, enforced ALLOW, AUDIT, dry-run DENY,
 * dry-run ALLOW) arranged so a request tries only rules that can match it, walking each index once for all
 * groups. Every rule has a global evaluation order (policies by namespace/name, then rule index); for each
 * group {@link #scan} finds the matching rule with the lowest order — the same answer as a linear scan — or,
 * for a collecting group (AUDIT), every matching rule. Each rule is filed under its {@link IndexHint}: the
 * peer principal, the peer namespace or the path it requires (exact values in a hash map, prefixes and
 * template heads in a trie walked along the value, suffixes and template tails in a trie walked back from its
 * end), else the
 * ports it requires; a rule without a hint is always tried. Lookups allocate nothing but the list of a
 * collecting group's matches. Immutable and thread-safe.
 */
final class RuleIndex {

  /** One rule of one policy, with its prebuilt decision. */
  static final class Entry {
    final int order;
    final int group;
    final CompiledRule rule;
    final Decision decision;
    final Decision.Outcome outcome;
    final Decision.Match match;
    /** {@link #match} as the whole list of audits, when it is the only one. */
    final List<Decision.Match> alone;

    Entry(int order, int group, CompiledRule rule, Decision decision) {
      this.order = order;
      this.group = group;
      this.rule = rule;
      this.decision = decision;
      this.outcome = decision.outcome();
      this.match = new Decision.Match(decision.policy(), decision.ruleIndex());
      this.alone = List.of(match);
    }
  }

  /**
   * What one request's walk found: per group the first matching rule, and the matches of the collecting
   * groups. Reused across requests of one thread ({@link #reset} before each walk), so a walk allocates
   * nothing, and one collected match costs nothing either.
   */
  static final class Scan {
    final Entry[] best;
    private Entry[] found = new Entry[8];
    private int foundCount;

    Scan(int groups) {
      this.best = new Entry[groups];
    }

    void reset() {
      Arrays.fill(best, null);
      Arrays.fill(found, 0, foundCount, null);
      foundCount = 0;
    }

    void add(Entry e) {
      if (foundCount == found.length) found = Arrays.copyOf(found, foundCount * 2);
      found[foundCount++] = e;
    }

    /** The collecting groups' matches, one per policy (its first matching rule), in evaluation order. */
    List<Decision.Match> matches() {
      if (foundCount == 0) return List.of();
      if (foundCount == 1) return found[0].alone;
      for (int i = 1; i < foundCount; i++) { // insertion sort: a handful of matches, usually in order already
        Entry e = found[i];
        int j = i - 1;
        while (j >= 0 && found[j].order > e.order) {
          found[j + 1] = found[j];
          j--;
        }
        found[j + 1] = e;
      }
      Decision.Match[] out = new Decision.Match[foundCount];
      int n = 0;
      PolicyRef last = null;
      for (int i = 0; i < foundCount; i++) {
        PolicyRef policy = found[i].match.policy();
        if (!policy.equals(last)) out[n++] = found[i].match;
        last = policy;
      }
      return List.of(n == out.length ? out : Arrays.copyOf(out, n));
    }
  }

  private static final Entry[] NONE = new Entry[0];

  private final boolean empty;
  private final boolean indexed;
  private final boolean[] collects;
  private final PatternIndex byPrincipal;
  private final PatternIndex byNamespace;
  private final PatternIndex byPath;
  private final PortMap byPort;
  private final Entry[][] unindexed;

  /**
   * @param entries in evaluation order (ascending {@code order}), each tagged with its group; rules that can
   *     never match are left out
   * @param collects per group: whether {@link #scan} collects every match (else only the first)
   * @param indexed false for a plain linear scan (the reference the index is measured against)
   */
  RuleIndex(List<Entry> entries, boolean[] collects, boolean indexed) {
    this.collects = collects.clone();
    this.indexed = indexed;
    List<Entry> live = entries.stream().filter(e -> !e.rule.never).toList();
    this.empty = live.isEmpty();
    PatternIndex.Builder principals = new PatternIndex.Builder(PeerIdentity.SCHEME, collects.length);
    PatternIndex.Builder namespaces = new PatternIndex.Builder("", collects.length);
    PatternIndex.Builder paths = new PatternIndex.Builder("", collects.length);
    Map<Integer, List<Entry>> ports = new HashMap<>();
    List<Entry> rest = new ArrayList<>();
    for (Entry e : live) {
      IndexHint hint = indexed ? e.rule.hint : null;
      if (hint == null) {
        rest.add(e);
        continue;
      }
      switch (hint.attribute()) {
        case PRINCIPAL -> {
          for (StringPattern p : hint.patterns()) {
            String ns = namespaceOfPrefix(p);
            if (ns != null) namespaces.addExact(ns, e); // a hash lookup instead of a walk along the shared head
            else principals.add(p, e);
          }
        }
        case NAMESPACE -> hint.patterns().forEach(p -> namespaces.add(p, e));
        case PATH -> hint.patterns().forEach(p -> paths.add(p, e));
        case PORT -> {
          for (int p : hint.ports()) addOnce(ports.computeIfAbsent(p, k -> new ArrayList<>()), e);
        }
      }
    }
    this.byPrincipal = principals.build();
    this.byNamespace = namespaces.build();
    this.byPath = paths.build();
    this.byPort = ports.isEmpty() ? null : new PortMap(ports, collects.length);
    this.unindexed = byGroup(rest, collects.length);
  }

  /**
   * The namespace every principal a prefix pattern {@code <td>/ns/<namespace>/...} matches has, or null for
   * another pattern: such an ID's path starts with the {@code ns} segment, which is where {@link PeerIdentity}
   * takes its namespace from — so the rule may be filed under that namespace (it is still matched in full).
   */
  static String namespaceOfPrefix(StringPattern p) {
    if (p.kind != StringPattern.Kind.PREFIX) return null;
    String t = p.text;
    int td = t.indexOf('/');
    if (td <= 0 || !t.startsWith("/ns/", td)) return null;
    int start = td + 4;
    int end = t.indexOf('/', start);
    return end <= start ? null : t.substring(start, end);
  }

  boolean isEmpty() {
    return empty;
  }

  /** Walks the index once for {@code r}, filling {@code s} (which must be {@link Scan#reset}). */
  void scan(AuthzRequest r, Scan s) {
    if (empty) return;
    visit(unindexed, r, s);
    if (!indexed) return;
    PeerIdentity peer = r.peer();
    if (peer != null) {
      String principal = peer.spiffeId();
      if (byPrincipal != null) {
        byPrincipal.visit(principal, PeerIdentity.SCHEME.length(), r, s, this); // an ID always has the scheme
      }
      if (byNamespace != null && peer.namespace() != null) byNamespace.visit(peer.namespace(), 0, r, s, this);
    }
    if (byPath != null && r.path() != null) byPath.visit(r.path(), 0, r, s, this);
    if (byPort != null) visit(byPort.get(r.destinationPort()), r, s);
  }

  /**
   * The first matching rule of group 0 (an index of one group), returned rather than stored: the cheaper
   * walk when no other group needs the request.
   */
  Entry first(AuthzRequest r) {
    if (empty) return null;
    Entry best = unindexed == null ? null : first(unindexed[0], r, null);
    if (!indexed) return best;
    PeerIdentity peer = r.peer();
    if (peer != null) {
      String principal = peer.spiffeId();
      if (byPrincipal != null) {
        best = byPrincipal.first(principal, PeerIdentity.SCHEME.length(), r, best);
      }
      if (byNamespace != null && peer.namespace() != null) best = byNamespace.first(peer.namespace(), 0, r, best);
    }
    if (byPath != null && r.path() != null) best = byPath.first(r.path(), 0, r, best);
    if (byPort != null) best = firstIn(byPort.get(r.destinationPort()), r, best);
    return best;
  }

  /** The first match of group 0 in a slot if it comes before {@code best}, else {@code best}. */
  static Entry firstIn(Entry[][] slot, AuthzRequest r, Entry best) {
    return slot == null ? best : first(slot[0], r, best);
  }

  /** Tries the rules of one index slot, per group. */
  void visit(Entry[][] slot, AuthzRequest r, Scan s) {
    if (slot == null) return;
    for (int g = 0; g < slot.length; g++) {
      Entry[] list = slot[g];
      if (list == null) continue;
      if (collects[g]) {
        for (Entry e : list) {
          if (e.rule.matches(r)) s.add(e);
        }
      } else {
        s.best[g] = first(list, r, s.best[g]);
      }
    }
  }

  /** The first match in {@code list} if it comes before {@code best}, else {@code best}. */
  private static Entry first(Entry[] list, AuthzRequest r, Entry best) {
    int limit = best == null ? Integer.MAX_VALUE : best.order;
    for (Entry e : list) {
      if (e.order >= limit) return best;
      if (e.rule.matches(r)) return e;
    }
    return best;
  }

  /**
   * The entries split by group (each in order), null for a group without any, up to the last group with
   * some; null when there are none.
   */
  private static Entry[][] byGroup(List<Entry> entries, int groups) {
    if (entries.isEmpty()) return null;
    List<List<Entry>> split = new ArrayList<>(groups);
    for (int g = 0; g < groups; g++) split.add(new ArrayList<>());
    for (Entry e : entries) split.get(e.group).add(e);
    int used = groups;
    while (split.get(used - 1).isEmpty()) used--; // trailing groups without rules: a shorter slot to visit
    Entry[][] out = new Entry[used][];
    for (int g = 0; g < used; g++) out[g] = split.get(g).isEmpty() ? null : split.get(g).toArray(NONE);
    return out;
  }

  private static void addOnce(List<Entry> list, Entry e) {
    if (list.isEmpty() || list.get(list.size() - 1) != e) list.add(e);
  }

  /** Rules keyed by one string attribute: exact values, prefixes (and template literals), suffixes. */
  private static final class PatternIndex {
    private final Map<String, Entry[][]> exact;
    private final Trie prefixes;
    private final Trie suffixes;

    private PatternIndex(Map<String, Entry[][]> exact, Trie prefixes, Trie suffixes) {
      this.exact = exact;
      this.prefixes = prefixes;
      this.suffixes = suffixes;
    }

    /** Tries the rules {@code value} (matched from {@code offset} on) leads to. */
    void visit(String value, int offset, AuthzRequest r, Scan s, RuleIndex index) {
      if (exact != null) index.visit(exact.get(value), r, s);
      if (prefixes != null) prefixes.walkForward(value, offset, r, s, index);
      if (suffixes != null) suffixes.walkBackward(value, offset, r, s, index);
    }

    /** {@link RuleIndex#first(AuthzRequest)} along {@code value}. */
    Entry first(String value, int offset, AuthzRequest r, Entry best) {
      if (exact != null) best = firstIn(exact.get(value), r, best);
      if (prefixes != null) best = prefixes.firstForward(value, offset, r, best);
      if (suffixes != null) best = suffixes.firstBackward(value, offset, r, best);
      return best;
    }

    static final class Builder {
      private final String exactKeyPrefix;
      private final int groups;
      private final Map<String, List<Entry>> exact = new HashMap<>();
      private final Map<String, List<Entry>> prefixes = new HashMap<>();
      private final Map<String, List<Entry>> suffixes = new HashMap<>();

      /** @param exactKeyPrefix prepended to exact patterns so lookups use the request's value as is */
      Builder(String exactKeyPrefix, int groups) {
        this.exactKeyPrefix = exactKeyPrefix;
        this.groups = groups;
      }

      /** Files {@code e} under an exact value (as the request carries it). */
      void addExact(String value, Entry e) {
        addOnce(exact.computeIfAbsent(value, k -> new ArrayList<>()), e);
      }

      void add(StringPattern p, Entry e) {
        switch (p.kind) {
          case EXACT -> addOnce(exact.computeIfAbsent(exactKeyPrefix + p.text, k -> new ArrayList<>()), e);
          case PREFIX, TEMPLATE -> {
            if (IndexHint.filedByTail(p)) {
              addOnce(suffixes.computeIfAbsent(reversed(IndexHint.literal(p)), k -> new ArrayList<>()), e);
            } else {
              addOnce(prefixes.computeIfAbsent(IndexHint.literal(p), k -> new ArrayList<>()), e);
            }
          }
          case SUFFIX -> addOnce(suffixes.computeIfAbsent(reversed(p.text), k -> new ArrayList<>()), e);
          default -> throw new IllegalArgumentException("not indexable: " + p);
        }
      }

      private static String reversed(String s) {
        return new StringBuilder(s).reverse().toString();
      }

      PatternIndex build() {
        if (exact.isEmpty() && prefixes.isEmpty() && suffixes.isEmpty()) return null;
        return new PatternIndex(exact.isEmpty() ? null : freeze(exact, groups),
            prefixes.isEmpty() ? null : new Trie(prefixes, false, groups),
            suffixes.isEmpty() ? null : new Trie(suffixes, true, groups));
      }
    }
  }

  private static Map<String, Entry[][]> freeze(Map<String, List<Entry>> m, int groups) {
    Map<String, Entry[][]> out = new HashMap<>(Math.max(4, m.size() * 2));
    m.forEach((k, v) -> out.put(k, byGroup(v, groups)));
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
    Trie(Map<String, List<Entry>> byKey, boolean backward, int groups) {
      Building top = new Building();
      byKey.forEach((key, entries) -> {
        Building n = top;
        for (int i = 0; i < key.length(); i++) n = n.children.computeIfAbsent(key.charAt(i), c -> new Building());
        n.entries = byGroup(entries, groups);
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

    void walkForward(String value, int offset, AuthzRequest r, Scan s, RuleIndex index) {
      int i = offset;
      for (Node n = root; n != null; n = forward(n, value, i)) {
        i += n.label.length();
        if (n.entries != null) index.visit(n.entries, r, s);
      }
    }

    Entry firstForward(String value, int offset, AuthzRequest r, Entry best) {
      int i = offset;
      for (Node n = root; n != null; n = forward(n, value, i)) {
        i += n.label.length();
        best = firstIn(n.entries, r, best);
      }
      return best;
    }

    Entry firstBackward(String value, int offset, AuthzRequest r, Entry best) {
      int i = value.length();
      for (Node n = root; n != null; n = backward(n, value, i, offset)) {
        i -= n.label.length();
        best = firstIn(n.entries, r, best);
      }
      return best;
    }

    void walkBackward(String value, int offset, AuthzRequest r, Scan s, RuleIndex index) {
      int i = value.length();
      for (Node n = root; n != null; n = backward(n, value, i, offset)) {
        i -= n.label.length();
        if (n.entries != null) index.visit(n.entries, r, s);
      }
    }

    private static final class Building {
      final TreeMap<Character, Building> children = new TreeMap<>();
      Entry[][] entries;
    }

    private static final class Node {
      String label;
      char[] keys;
      Node[] children;
      Entry[][] entries;
    }
  }

  /** Rules by required port: open addressing over int keys (no boxing on lookup). */
  private static final class PortMap {
    private final int[] keys;
    private final Entry[][][] values;
    private final int mask;

    PortMap(Map<Integer, List<Entry>> m, int groups) {
      int cap = Integer.highestOneBit(Math.max(4, m.size() * 4) - 1) << 1;
      keys = new int[cap];
      Arrays.fill(keys, Integer.MIN_VALUE);
      values = new Entry[cap][][];
      mask = cap - 1;
      m.forEach((port, entries) -> {
        int i = mix(port) & mask;
        while (keys[i] != Integer.MIN_VALUE) i = (i + 1) & mask;
        keys[i] = port;
        values[i] = byGroup(entries, groups);
      });
    }

    Entry[][] get(int port) {
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
