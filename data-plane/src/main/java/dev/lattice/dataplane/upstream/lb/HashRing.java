package dev.lattice.dataplane.upstream.lb;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.function.Predicate;

/**
 * Envoy's ring hash: every endpoint owns {@code unit × weight} points on a 64-bit ring, hashed from
 * {@code address:port_i}, where {@code unit} depends on {@code minimumRingSize} only (a quarter of it
 * rounded up to a power of two, at least 64: 256 for the default 1024); a key goes to the first point at
 * or after its hash. Removing
 * one of N endpoints moves only the keys that were on it (~1/N); the others stay where they were.
 * Immutable and thread-safe.
 */
public final class HashRing {
  /** Envoy's default {@code minimum_ring_size}. */
  public static final int DEFAULT_MIN_RING_SIZE = 1024;
  /** Envoy's default {@code maximum_ring_size}. */
  public static final int MAX_RING_SIZE = 8 * 1024 * 1024;

  private final long[] hashes;
  private final InetSocketAddress[] owners;

  private HashRing(long[] hashes, InetSocketAddress[] owners) {
    this.hashes = hashes;
    this.owners = owners;
  }

  /** A ring over {@code endpoints} with at least {@code minRingSize} points in all. */
  public static HashRing of(List<WeightedEndpoint> endpoints, long minRingSize) {
    if (minRingSize < 1 || minRingSize > MAX_RING_SIZE) {
      throw new IllegalArgumentException("minimumRingSize " + minRingSize + " (expected: 1.." + MAX_RING_SIZE + ")");
    }
    long totalWeight = 0;
    for (WeightedEndpoint e : endpoints) {
      totalWeight += e.weight();
    }
    // points per unit of weight: fixed by minRingSize alone (a power of two, a quarter of it, at least 64),
    // never by the other endpoints, so an endpoint's points (address:port_0..k) are the same in every
    // snapshot and only the keys of an endpoint that leaves move. The ring reaches minRingSize from four
    // units of weight on; Envoy instead spreads minRingSize over the endpoints, which moves a few more keys.
    long unit = Math.max(64, Long.highestOneBit(Math.max(1, (minRingSize + 3) / 4) * 2 - 1));
    unit = Math.min(unit, Math.max(1, MAX_RING_SIZE / Math.max(1, totalWeight)));
    int points = 0;
    int[] per = new int[endpoints.size()];
    for (int i = 0; i < per.length; i++) {
      per[i] = (int) (unit * endpoints.get(i).weight());
      points += per[i];
    }
    long[] keyed = new long[points];
    InetSocketAddress[] byPoint = new InetSocketAddress[points];
    int k = 0;
    for (int i = 0; i < per.length; i++) {
      InetSocketAddress a = endpoints.get(i).address();
      String base = a.getAddress().getHostAddress() + ":" + a.getPort() + "_";
      for (int j = 0; j < per[i]; j++) {
        keyed[k] = hash(base + j);
        byPoint[k] = a;
        k++;
      }
    }
    // sort points by hash, owners alongside
    Integer[] order = new Integer[points];
    for (int i = 0; i < points; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (x, y) -> Long.compareUnsigned(keyed[x], keyed[y]));
    long[] hashes = new long[points];
    InetSocketAddress[] owners = new InetSocketAddress[points];
    for (int i = 0; i < points; i++) {
      hashes[i] = keyed[order[i]];
      owners[i] = byPoint[order[i]];
    }
    return new HashRing(hashes, owners);
  }

  /** Points on the ring. */
  public int size() {
    return hashes.length;
  }

  /** The owner of {@code keyHash}, or the next owner along the ring that {@code acceptable} takes (a retry); null if empty. */
  public InetSocketAddress lookup(long keyHash, Predicate<InetSocketAddress> acceptable) {
    int n = hashes.length;
    if (n == 0) {
      return null;
    }
    int lo = 0;
    int hi = n;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (Long.compareUnsigned(hashes[mid], keyHash) < 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    int first = lo == n ? 0 : lo;
    if (acceptable == null) {
      return owners[first];
    }
    for (int i = 0; i < n; i++) {
      InetSocketAddress a = owners[(first + i) % n];
      if (acceptable.test(a)) {
        return a;
      }
    }
    return owners[first];
  }

  /**
   * As {@link #lookup(long, Predicate)} over the owners {@code usable} takes only (those not ejected):
   * the first usable owner from the key's point on that {@code acceptable} (null: any) takes, else the
   * first usable one; null when none is usable. Walking on past an unusable owner's point is where the
   * key lands in a ring without it, so the other keys do not move.
   */
  public InetSocketAddress lookup(long keyHash, Predicate<InetSocketAddress> acceptable, Predicate<InetSocketAddress> usable) {
    int n = hashes.length;
    if (n == 0) {
      return null;
    }
    int first = firstAtOrAfter(keyHash);
    InetSocketAddress fallback = null;
    InetSocketAddress rejected = null; // the last owner found unusable: its other points need no second look
    for (int i = 0; i < n; i++) {
      InetSocketAddress a = owners[(first + i) % n];
      if (a == rejected || a == fallback) {
        continue;
      }
      if (!usable.test(a)) {
        rejected = a;
        continue;
      }
      if (acceptable == null || acceptable.test(a)) {
        return a;
      }
      if (fallback == null) {
        fallback = a;
      }
    }
    return fallback;
  }

  private int firstAtOrAfter(long keyHash) {
    int n = hashes.length;
    int lo = 0;
    int hi = n;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (Long.compareUnsigned(hashes[mid], keyHash) < 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo == n ? 0 : lo;
  }

  /** 64-bit FNV-1a of the UTF-8 bytes with a splitmix64 finalizer (FNV alone clusters similar keys). */
  public static long hash(String s) {
    long h = 0xcbf29ce484222325L;
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    h ^= h >>> 30;
    h *= 0xbf58476d1ce4e5b9L;
    h ^= h >>> 27;
    h *= 0x94d049bb133111ebL;
    h ^= h >>> 31;
    return h;
  }
}
