package dev.lattice.telemetry.metrics;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A small parser of the Prometheus text exposition format, for tests. */
public final class PromText {

  /** One sample line. */
  public record Sample(String family, Map<String, String> labels, double value) {}

  private static final Pattern LINE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)\\})?\\s+(\\S+)(\\s+\\S+)?$");
  private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

  private PromText() {}

  /** Every sample of {@code text}. */
  public static List<Sample> parse(String text) {
    List<Sample> out = new ArrayList<>();
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      Matcher m = LINE.matcher(line.trim());
      if (!m.matches()) {
        throw new IllegalArgumentException("not a sample line: " + line);
      }
      Map<String, String> labels = new LinkedHashMap<>();
      if (m.group(3) != null) {
        Matcher l = LABEL.matcher(m.group(3));
        while (l.find()) {
          labels.put(l.group(1), l.group(2).replace("\\\"", "\"").replace("\\\\", "\\"));
        }
      }
      out.add(new Sample(m.group(1), labels, parseValue(m.group(4))));
    }
    return out;
  }

  private static double parseValue(String v) {
    return switch (v) {
      case "+Inf" -> Double.POSITIVE_INFINITY;
      case "-Inf" -> Double.NEGATIVE_INFINITY;
      case "NaN" -> Double.NaN;
      default -> Double.parseDouble(v);
    };
  }

  /** The {@code le} text for a bound (compared numerically by {@link #sum}). */
  public static String le(double bound) {
    return Double.toString(bound);
  }

  /** Sum of {@code family}'s samples whose labels include {@code match} ({@code le} compared as a number). */
  public static double sum(List<Sample> samples, String family, Map<String, String> match) {
    double sum = 0;
    for (Sample s : samples) {
      if (!s.family().equals(family)) {
        continue;
      }
      boolean all = true;
      for (Map.Entry<String, String> e : match.entrySet()) {
        String v = s.labels().get(e.getKey());
        if (v == null || !(e.getKey().equals("le") ? parseValue(v) == parseValue(e.getValue())
            : v.equals(e.getValue()))) {
          all = false;
          break;
        }
      }
      if (all) {
        sum += s.value();
      }
    }
    return sum;
  }
}
