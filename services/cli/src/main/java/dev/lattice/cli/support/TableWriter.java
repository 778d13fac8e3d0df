package dev.lattice.cli.support;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Prints kubectl-style tables: upper-case headers, columns padded to the widest cell, three spaces
 * between columns, no borders. Collects rows, then {@link #print(PrintWriter)}. Not thread-safe.
 */
public final class TableWriter {
  private final List<String> headers;
  private final List<List<String>> rows = new ArrayList<>();

  public TableWriter(String... headers) {
    this.headers = List.of(headers).stream().map(h -> h.toUpperCase(Locale.ROOT)).toList();
  }

  /** Adds a row; missing cells print empty, extra cells are an error. */
  public TableWriter row(Object... cells) {
    if (cells.length > headers.size()) {
      throw new IllegalArgumentException("row has " + cells.length + " cells (expected: at most " + headers.size() + ")");
    }
    List<String> row = new ArrayList<>();
    for (int i = 0; i < headers.size(); i++) {
      row.add(i < cells.length && cells[i] != null ? cells[i].toString() : "");
    }
    rows.add(row);
    return this;
  }

  public void print(PrintWriter out) {
    int[] widths = new int[headers.size()];
    for (int i = 0; i < widths.length; i++) {
      widths[i] = headers.get(i).length();
      for (List<String> row : rows) widths[i] = Math.max(widths[i], row.get(i).length());
    }
    printRow(out, headers, widths);
    rows.forEach(r -> printRow(out, r, widths));
    out.flush();
  }

  private static void printRow(PrintWriter out, List<String> cells, int[] widths) {
    StringBuilder line = new StringBuilder();
    for (int i = 0; i < cells.size(); i++) {
      String cell = cells.get(i);
      line.append(cell);
      if (i < cells.size() - 1) line.append(" ".repeat(widths[i] - cell.length() + 3));
    }
    out.println(line.toString().stripTrailing());
  }
}
