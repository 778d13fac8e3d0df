package dev.lattice.policy.api;

import java.util.ArrayList;
import java.util.List;

/**
 * A line diff of two small texts (resources as YAML) in the familiar {@code -}/{@code +}/{@code  } form,
 * by longest common subsequence. Meant for documents of a few hundred lines. Stateless.
 */
final class TextDiff {
  private TextDiff() {}

  /** Lines prefixed with "- " (removed), "+ " (added) or "  " (kept); empty when equal. */
  static List<String> lines(String before, String after) {
    String[] a = before.isEmpty() ? new String[0] : before.split("\n", -1);
    String[] b = after.isEmpty() ? new String[0] : after.split("\n", -1);
    int n = a.length;
    int m = b.length;
    int[][] lcs = new int[n + 1][m + 1];
    for (int i = n - 1; i >= 0; i--) {
      for (int j = m - 1; j >= 0; j--) {
        lcs[i][j] = a[i].equals(b[j]) ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
      }
    }
    List<String> out = new ArrayList<>();
    boolean changed = false;
    int i = 0;
    int j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[i].equals(b[j])) {
        if (!a[i].isEmpty()) out.add("  " + a[i]);
        i++;
        j++;
      } else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) {
        if (!a[i].isEmpty()) out.add("- " + a[i]);
        changed = true;
        i++;
      } else {
        if (!b[j].isEmpty()) out.add("+ " + b[j]);
        changed = true;
        j++;
      }
    }
    return changed ? out : List.of();
  }
}
