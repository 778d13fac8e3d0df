package dev.lattice.policy.api;

import java.util.ArrayList;
import java.util.List;

/**
 * A line diff of two texts (resources as YAML) in the familiar {@code -}/{@code +}/{@code  } form. The
 * common head and tail are matched directly; the changed middle by longest common subsequence when it
 * is at most {@value #MAX_LCS_CELLS} line pairs, else shown as all of the old middle removed and all of
 * the new one added — so time and memory stay bounded for resources of any size. Stateless.
 */
final class TextDiff {
  /** The largest middle (old lines × new lines) diffed by LCS: a 4 MiB table of ints. */
  static final int MAX_LCS_CELLS = 1 << 20;

  private TextDiff() {}

  /** Lines prefixed with "- " (removed), "+ " (added) or "  " (kept); empty when equal. */
  static List<String> lines(String before, String after) {
    if (before.equals(after)) return List.of();
    String[] a = before.isEmpty() ? new String[0] : before.split("\n", -1);
    String[] b = after.isEmpty() ? new String[0] : after.split("\n", -1);
    int head = 0;
    while (head < a.length && head < b.length && a[head].equals(b[head])) head++;
    int tail = 0;
    while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail].equals(b[b.length - 1 - tail])) tail++;
    List<String> out = new ArrayList<>();
    for (int i = 0; i < head; i++) kept(out, a[i]);
    int n = a.length - head - tail;
    int m = b.length - head - tail;
    boolean changed;
    if ((long) n * m <= MAX_LCS_CELLS) {
      changed = lcs(a, head, n, b, head, m, out);
    } else {
      for (int i = 0; i < n; i++) add(out, "- ", a[head + i]);
      for (int j = 0; j < m; j++) add(out, "+ ", b[head + j]);
      changed = n > 0 || m > 0;
    }
    for (int i = a.length - tail; i < a.length; i++) kept(out, a[i]);
    return changed ? out : List.of();
  }

  private static boolean lcs(String[] a, int a0, int n, String[] b, int b0, int m, List<String> out) {
    int[][] lcs = new int[n + 1][m + 1];
    for (int i = n - 1; i >= 0; i--) {
      for (int j = m - 1; j >= 0; j--) {
        lcs[i][j] = a[a0 + i].equals(b[b0 + j]) ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
      }
    }
    boolean changed = false;
    int i = 0;
    int j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[a0 + i].equals(b[b0 + j])) {
        kept(out, a[a0 + i]);
        i++;
        j++;
      } else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) {
        add(out, "- ", a[a0 + i]);
        changed = true;
        i++;
      } else {
        add(out, "+ ", b[b0 + j]);
        changed = true;
        j++;
      }
    }
    return changed;
  }

  private static void kept(List<String> out, String line) {
    add(out, "  ", line);
  }

  private static void add(List<String> out, String prefix, String line) {
    if (!line.isEmpty()) out.add(prefix + line);
  }
}
