package dev.lattice.telemetry.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code docs/grafana/lattice-mesh.json} works against what the pipeline really exports: every metric and
 * label its PromQL names appears in a scrape of {@link MeshMetrics} fed by the real topology with generated
 * traffic, and every series selector matches at least one exported series (dashboard variables as
 * "All").
 */
class GrafanaDashboardTest {

  static final Path DASHBOARD = Path.of("..", "docs", "grafana", "lattice-mesh.json");
  static final Set<String> FUNCTIONS = Set.of("sum", "rate", "increase", "histogram_quantile", "round", "avg", "max",
      "min", "count", "topk", "label_values", "irate", "clamp_min");
  static final Set<String> KEYWORDS = Set.of("by", "without", "and", "or", "unless", "bool", "on", "ignoring",
      "group_left", "group_right", "offset");
  private static final Pattern STRING = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"");
  private static final Pattern SELECTOR = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)?\\s*\\{([^}]*)\\}");
  private static final Pattern MATCHER = Pattern.compile("\\s*([a-zA-Z_][a-zA-Z0-9_]*)\\s*(=~|!~|!=|=)\\s*"
      + "\"((?:[^\"\\\\]|\\\\.)*)\"\\s*(,|$)");
  private static final Pattern GROUPING = Pattern.compile("\\b(by|without)\\s*\\(([^)]*)\\)");
  private static final Pattern IDENT = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");

  static List<PromText.Sample> exported;
  static Map<String, Set<String>> labelsByFamily = new LinkedHashMap<>();

  record Selector(String metric, List<String[]> matchers) {}

  @BeforeAll
  static void scrape() {
    exported = MeshMetricsTest.exported(MeshMetricsTest.generated(31, 3000), new MeshMetrics(10_000));
    for (PromText.Sample s : exported) {
      labelsByFamily.computeIfAbsent(s.family(), k -> new TreeSet<>()).addAll(s.labels().keySet());
    }
  }

  /** Every PromQL expression of the dashboard: panel targets (rows included) and variable queries. */
  static List<String> expressions() throws Exception {
    JsonObject dashboard = new JsonObject(Files.readString(DASHBOARD));
    List<String> out = new ArrayList<>();
    collect(dashboard.getJsonArray("panels"), out);
    for (Object v : dashboard.getJsonObject("templating").getJsonArray("list")) {
      JsonObject var = (JsonObject) v;
      if ("query".equals(var.getString("type"))) {
        out.add(var.getJsonObject("query").getString("query"));
      }
    }
    return out;
  }

  private static void collect(JsonArray panels, List<String> out) {
    if (panels == null) {
      return;
    }
    for (Object o : panels) {
      JsonObject p = (JsonObject) o;
      collect(p.getJsonArray("panels"), out);
      JsonArray targets = p.getJsonArray("targets");
      if (targets != null) {
        for (Object t : targets) {
          out.add(((JsonObject) t).getString("expr"));
        }
      }
    }
  }

  @Test
  void everyPanelsPromqlUsesOnlyExportedMetricsAndLabelsAndMatchesSeries() throws Exception {
    List<String> exprs = expressions();
    assertThat(exprs).hasSizeGreaterThan(15).doesNotContainNull();
    Set<String> metricsUsed = new HashSet<>();
    for (String expr : exprs) {
      List<Selector> selectors = new ArrayList<>();
      Set<String> labels = new TreeSet<>();
      String rest = parse(expr, selectors, labels);
      Set<String> metrics = new TreeSet<>();
      selectors.forEach(s -> metrics.add(s.metric()));
      Matcher id = IDENT.matcher(rest);
      while (id.find()) {
        String word = id.group();
        boolean call = rest.substring(id.end()).matches("(?s)\\s*\\(.*");
        if (call) {
          assertThat(FUNCTIONS).as("function %s in %s", word, expr).contains(word);
        } else if (!KEYWORDS.contains(word)) {
          metrics.add(word); // a bare metric name
        }
      }
      assertThat(metrics).as("metrics of %s", expr).isNotEmpty();
      for (String metric : metrics) {
        assertThat(labelsByFamily).as("metric %s in %s is exported", metric, expr).containsKey(metric);
        Set<String> known = labelsByFamily.get(metric);
        assertThat(known).as("labels of %s in %s", metric, expr).containsAll(labels);
      }
      for (Selector s : selectors) {
        assertThat(exported).as("a series matching %s in %s", s, expr).anyMatch(sample -> matches(s, sample));
      }
      metricsUsed.addAll(metrics);
    }
    // the golden signals are all there
    assertThat(metricsUsed).contains("istio_requests_total", "istio_request_duration_milliseconds_bucket",
        "istio_tcp_connections_opened_total", "istio_request_bytes_sum");
    assertThat(exprs).anyMatch(e -> e.startsWith("histogram_quantile(0.99"));
  }

  @Test
  void theCheckRejectsWhatIsNotExported() {
    List<Selector> selectors = new ArrayList<>();
    Set<String> labels = new TreeSet<>();
    parse("sum by (destination_cluster) (rate(istio_requests_total{reporter=\"destination\",response_code=\"5xx\"}[1m]))",
        selectors, labels);
    assertThat(labels).contains("destination_cluster");
    assertThat(labelsByFamily.get("istio_requests_total")).doesNotContain("destination_cluster");
    // the class is not a response code: Istio's response_code is exact
    assertThat(exported).noneMatch(sample -> matches(selectors.get(0), sample));
    assertThat(labelsByFamily).doesNotContainKey("istio_requests");
  }

  /**
   * Pulls selectors and grouping labels out of {@code expr}; returns what is left (function names, bare
   * metric names, numbers, operators) for the identifier scan.
   */
  static String parse(String expr, List<Selector> selectors, Set<String> labels) {
    Matcher sel = SELECTOR.matcher(expr);
    StringBuilder rest = new StringBuilder();
    int last = 0;
    while (sel.find()) {
      List<String[]> matchers = new ArrayList<>();
      String body = sel.group(2).trim();
      Matcher m = MATCHER.matcher(body);
      int at = 0;
      while (at < body.length()) {
        assertThat(m.find(at) && m.start() == at).as("label matchers of %s in %s", body, expr).isTrue();
        matchers.add(new String[] {m.group(1), m.group(2), m.group(3)});
        labels.add(m.group(1));
        at = m.end();
      }
      assertThat(sel.group(1)).as("selector without a metric name in %s", expr).isNotNull();
      selectors.add(new Selector(sel.group(1), matchers));
      rest.append(expr, last, sel.start()).append(' ');
      last = sel.end();
    }
    rest.append(expr.substring(last));
    String r = STRING.matcher(rest).replaceAll(" ");
    r = r.replaceAll("\\[[^\\]]*\\]", " ");
    Matcher g = GROUPING.matcher(r);
    while (g.find()) {
      for (String l : g.group(2).split(",")) {
        if (!l.isBlank()) {
          labels.add(l.trim());
        }
      }
    }
    r = GROUPING.matcher(r).replaceAll(" ");
    // label_values(metric, label): the label is the second argument
    Matcher lv = Pattern.compile("label_values\\(\\s*([a-zA-Z_:][a-zA-Z0-9_:]*)?\\s*,\\s*([a-zA-Z_]+)\\s*\\)").matcher(r);
    while (lv.find()) {
      labels.add(lv.group(2));
      r = r.replace(lv.group(), "label_values(" + (lv.group(1) == null ? "" : lv.group(1)) + ")");
      lv = Pattern.compile("label_values\\(\\s*([a-zA-Z_:][a-zA-Z0-9_:]*)?\\s*,\\s*([a-zA-Z_]+)\\s*\\)").matcher(r);
    }
    labels.remove("le"); // histogram buckets carry it; checked by the bucket selector matching
    return r;
  }

  /** Prometheus' matching: regexes anchored; dashboard variables ({@code $var}) as "All" ({@code .*}). */
  static boolean matches(Selector s, PromText.Sample sample) {
    if (!sample.family().equals(s.metric())) {
      return false;
    }
    for (String[] m : s.matchers()) {
      String value = sample.labels().getOrDefault(m[0], "");
      String wanted = m[2].replaceAll("\\$[a-zA-Z_]+", ".*").replace("\\\\", "\\");
      boolean ok = switch (m[1]) {
        case "=" -> value.equals(wanted);
        case "!=" -> !value.equals(wanted);
        case "=~" -> value.matches(wanted);
        case "!~" -> !value.matches(wanted);
        default -> false;
      };
      if (!ok) {
        return false;
      }
    }
    return true;
  }
}
