package dev.lattice.telemetry.dashboard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lattice.events.FlowRecord;
import dev.lattice.kit.config.LatticeConfig;
import dev.lattice.kit.service.RunningService;
import dev.lattice.kit.service.ServiceLauncher;
import dev.lattice.telemetry.TelemetryService;
import dev.lattice.telemetry.flow.FlowJson;
import dev.lattice.telemetry.flow.FlowSignals;
import dev.lattice.telemetry.generator.FlowGenerator;
import dev.lattice.testkit.kafka.KafkaCluster;
import dev.lattice.testkit.kafka.LatticeKafkaTest;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard in headless Chromium (Debian's {@code chromium} + {@code chromium-driver}, driven by Selenium
 * through {@code /usr/bin/chromedriver}, never a downloaded browser) against the real pipeline on the embedded
 * broker, fed by generated flows: the graph shows exactly the nodes and edges of the generated traffic with their
 * counts, the denied edge marked; the denied panel links the denial to its deciding policy and to explain; the
 * live flow table's filters narrow its rows. Screenshots go to {@code target/dashboard-browser-test/}.
 *
 * <p>Skipped (with the reason) where Chromium is not installed. Every wait has a deadline and none is a sleep;
 * the deadlines are generous because CI shares two cores with a broker and Streams.
 */
@LatticeKafkaTest
@EnabledIf(value = "chromiumInstalled",
    disabledReason = "needs /usr/bin/chromium and /usr/bin/chromedriver: apt-get install chromium chromium-driver "
        + "(.ci/run installs them); override with -Dlattice.chromium= and -Dlattice.chromedriver=")
class DashboardBrowserTest {

  static final Path CHROMIUM = Path.of(System.getProperty("lattice.chromium", "/usr/bin/chromium"));
  static final Path CHROMEDRIVER = Path.of(System.getProperty("lattice.chromedriver", "/usr/bin/chromedriver"));
  static final Path ARTIFACTS = Path.of("target", "dashboard-browser-test");
  static final Instant T0 = Instant.parse("2026-12-03T12:00:00Z");
  // the query API's "now": the dashboard's default range (5m) ends here and holds all generated traffic
  static final Instant NOW = T0.plus(Duration.ofSeconds(90));
  static final Duration BOUND = Duration.ofSeconds(120);
  static final String POLICY_URL = "http://policy.lattice.test:7080";

  @TempDir Path tmp;
  KafkaCluster cluster;
  String flowsTopic;
  ServiceLauncher launcher;
  RunningService running;
  WebDriver driver;
  final java.net.http.HttpClient jdk = java.net.http.HttpClient.newHttpClient();

  static boolean chromiumInstalled() {
    return Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
  }

  @BeforeEach
  void setUp(KafkaCluster cluster) throws Exception {
    this.cluster = cluster;
    flowsTopic = cluster.uniqueTopic("dash-flows");
    Map<String, String> cfg = new HashMap<>();
    cfg.put("kafka.bootstrap.servers", cluster.bootstrapServers());
    cfg.put("telemetry.http.port", "0");
    cfg.put("telemetry.topics.flows", flowsTopic);
    cfg.put("telemetry.topics.metrics", cluster.uniqueTopic("dash-metrics"));
    cfg.put("telemetry.application.id", cluster.uniqueTopic("dash-telemetry"));
    cfg.put("telemetry.data.dir", tmp.resolve("telemetry").toString());
    cfg.put("telemetry.dashboard.policy-url", POLICY_URL + "/");
    // one burst over several partitions: grace covers the skew between their tasks
    cfg.put("telemetry.windows.grace", "5m");
    cfg.put("kafka.streams.commit.interval.ms", "100");
    launcher = ServiceLauncher.create(LatticeConfig.of(cfg));
    running = launcher.start(new TelemetryService(Clock.fixed(NOW, ZoneOffset.UTC))).toCompletionStage()
        .toCompletableFuture().get(BOUND.toSeconds(), TimeUnit.SECONDS);
    await().atMost(BOUND).until(() -> get("/readyz").statusCode() == 200);
  }

  @AfterEach
  void tearDown() {
    if (running != null) {
      try {
        Files.createDirectories(ARTIFACTS);
        Files.writeString(ARTIFACTS.resolve("graph-api.json"), get("/v1/graph?window=1m&range=5m").body());
      } catch (Exception e) {
        System.err.println("graph answer not saved: " + e);
      }
    }
    if (driver != null) {
      screenshot("dashboard-last.png");
      try {
        Files.write(ARTIFACTS.resolve("browser-console.log"), driver.manage().logs().get(LogType.BROWSER).getAll()
            .stream().map(String::valueOf).toList(), StandardCharsets.UTF_8);
      } catch (IOException | RuntimeException e) {
        System.err.println("browser console not saved: " + e);
      }
      driver.quit();
    }
    if (launcher != null) {
      launcher.close();
    }
  }

  @Test
  void rendersGraphFiltersFlowsAndLinksDenialsToPolicy() throws Exception {
    // -- traffic before the page opens: the graph's range
    FlowGenerator generator = new FlowGenerator(11);
    List<FlowRecord> before = new ArrayList<>();
    for (int i = 0; i < 1_000; i++) {
      before.add(generator.next(T0.plusMillis(i * 60L)));
    }
    Map<String, Long> expectedEdges = new TreeMap<>();
    Set<String> expectedNodes = new TreeSet<>();
    Map<String, Long> expectedDenials = new TreeMap<>(); // source|destination|policy → count
    Set<String> expectedServices = new TreeSet<>(); // the destinations, drawn with their signals
    for (FlowRecord f : before) {
      if (FlowSignals.counted(f)) {
        String src = FlowSignals.source(f);
        String dst = FlowSignals.destination(f);
        expectedEdges.merge(src + "|" + dst, 1L, Long::sum);
        expectedNodes.add(src);
        expectedNodes.add(dst);
        expectedServices.add(dst);
        if (FlowSignals.denied(f)) {
          expectedDenials.merge(src + "|" + dst + "|" + FlowSignals.denyingPolicy(f), 1L, Long::sum);
        }
      }
    }
    String deniedKey = "legacy/batch|shop/payments|" + FlowGenerator.DENYING_POLICY;
    assertThat(expectedDenials).containsKey(deniedKey);
    produce(before);
    // the live view has seen it all (its recent buffer is what the page replays) and the API has the graph
    await().atMost(BOUND).untilAsserted(() -> assertThat(new JsonObject(get("/v1/flows?last=1000").body())
        .getJsonArray("flows")).hasSize(before.size()));
    await().atMost(BOUND).untilAsserted(() -> {
      HttpResponse<String> r = get("/v1/graph?window=1m&range=5m");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      Map<String, Long> counts = new TreeMap<>();
      new JsonObject(r.body()).getJsonArray("edges").forEach(o -> counts.put(((JsonObject) o).getString("source")
          + "|" + ((JsonObject) o).getString("destination"), ((JsonObject) o).getLong("requests")));
      assertThat(counts).isEqualTo(expectedEdges);
    });

    // what the page will replay when it connects: the instance's newest 300 flows (no new flow arrives until then)
    List<JsonObject> replayed = new ArrayList<>();
    new JsonObject(get("/v1/flows?last=300").body()).getJsonArray("flows").forEach(o -> replayed.add((JsonObject) o));
    assertThat(replayed).hasSize(300);

    driver = chromium();
    WebDriverWait wait = new WebDriverWait(driver, BOUND, Duration.ofMillis(200));
    driver.get(running.url("/dashboard/").toString());

    // -- the graph: every generated node and edge, with its request count. The page redraws every 5 s, so
    // each read takes the DOM in one script (never an element kept across a redraw).
    wait.until(d -> drawnEdges().equals(expectedEdges));
    assertThat(new TreeSet<>(this.<List<String>>js(
        "return [...document.querySelectorAll('#graph-nodes .node')].map(n => n.dataset.node)")))
        .isEqualTo(expectedNodes);
    List<Map<String, Object>> drawn = edges();
    assertThat(drawn).allSatisfy(e -> assertThat((String) e.get("label")).contains("req/s").contains("p99"));
    // only the batch job's calls to payments are denied, and its edge is drawn so
    assertThat(drawn.stream().filter(e -> ((String) e.get("class")).contains("denied"))
        .map(e -> e.get("source") + "|" + e.get("destination"))).containsExactly("legacy/batch|shop/payments");
    assertThat(this.<Long>js("return document.querySelectorAll('#graph-nodes .node.kind-external').length"))
        .isPositive();
    assertThat(this.<Long>js("return document.querySelectorAll('#graph-nodes .node.kind-unknown').length"))
        .isPositive();
    wait.until(d -> drawnServices().equals(expectedServices));
    // the golden-signal charts of the first service; a click on a service node shows its own
    wait.until(d -> this.<Long>js("return document.querySelectorAll('#charts .chart').length") == 3);
    long toPayments = expectedEdges.entrySet().stream().filter(e -> e.getKey().endsWith("|shop/payments"))
        .mapToLong(Map.Entry::getValue).sum();
    js("document.querySelector(\"#graph-nodes .node[data-node='shop/payments']\")"
        + ".dispatchEvent(new MouseEvent('click', {bubbles: true}))");
    wait.until(d -> "shop/payments".equals(js("return document.getElementById('signals-summary').dataset.service"))
        && this.<Long>js("return document.querySelectorAll('#charts .chart').length") == 3);
    assertThat(this.<String>js("return document.getElementById('signals-summary').dataset.requests"))
        .isEqualTo(String.valueOf(toPayments));
    assertThat(this.<String>js("return document.getElementById('signals-summary').dataset.denied"))
        .isEqualTo(String.valueOf(expectedDenials.get(deniedKey)));

    // -- the denied panel: each denial with its count and the link to its deciding policy
    wait.until(d -> denials().size() == expectedDenials.size());
    String policyHref = POLICY_URL + "/v1/resources/AuthorizationPolicy/shop/payments-allow-checkout?output=yaml";
    Map<String, Object> denial = denials().stream().filter(r -> deniedKey.equals(r.get("key"))).findFirst().orElseThrow();
    assertThat(denial.get("count")).isEqualTo(String.valueOf(expectedDenials.get(deniedKey)));
    assertThat(denial.get("policyHref")).isEqualTo(policyHref);
    screenshot("dashboard-graph.png");

    // -- live flows: the replayed ones plus new traffic, including a denial
    wait.until(d -> d.findElement(By.id("flows-status")).getText().contains("connected"));
    List<FlowRecord> live = new ArrayList<>();
    boolean liveDenial = false;
    for (int i = 0; (live.size() < 150 || !liveDenial) && i < 10_000; i++) {
      FlowRecord f = generator.next(T0.plusMillis(60_000 + i * 20L));
      live.add(f);
      liveDenial |= FlowSignals.denied(f);
    }
    assertThat(liveDenial).isTrue();
    List<JsonObject> rows = new ArrayList<>(replayed);
    live.forEach(f -> rows.add(FlowJson.toJson(f)));
    assertThat(rows.size()).isLessThanOrEqualTo(500); // the page keeps 500
    produce(live);
    wait.until(d -> total() == rows.size());
    assertThat(shown()).isEqualTo(rows.size());

    // the denial's explain link, built from a live flow's identity and request
    wait.until(d -> denials().stream().anyMatch(r -> deniedKey.equals(r.get("key")) && r.get("explainHref") != null));
    String explain = (String) denials().stream().filter(r -> deniedKey.equals(r.get("key"))).findFirst().orElseThrow()
        .get("explainHref");
    assertThat(explain).startsWith(POLICY_URL + "/v1/explain?from=spiffe%3A%2F%2Flattice.local%2Fns%2Flegacy%2Fsa%2Fbatch"
        + "&to=payments.shop&method=").contains("&path=%2Fv1%2Fcharges").endsWith("&port=8443");
    // the denied rows of the flow table link to the same policy
    List<String> rowLinks = js("return [...document.querySelectorAll('#flows tr.flow.denied a.policy-link')]"
        + ".map(a => a.href)");
    assertThat(rowLinks).hasSize((int) rows.stream().filter(r -> r.getBoolean("denied")).count())
        .allMatch(policyHref::equals);

    // -- filters narrow the table to exactly the matching flows: workload, + denied only, verdict, cleared
    driver.findElement(By.id("filter-workload")).sendKeys("legacy/batch");
    long byWorkload = rows.stream().filter(r -> involves(r, "legacy/batch")).count();
    assertThat(byWorkload).isPositive().isLessThan(rows.size());
    wait.until(d -> shown() == byWorkload);
    assertThat(visibleRows()).allMatch(r -> ((String) r.get("source")).contains("legacy/batch")
        || ((String) r.get("destination")).contains("legacy/batch"));
    driver.findElement(By.id("filter-denied")).click();
    long deniedByWorkload = rows.stream().filter(r -> involves(r, "legacy/batch") && r.getBoolean("denied")).count();
    assertThat(deniedByWorkload).isPositive().isLessThan(byWorkload);
    wait.until(d -> shown() == deniedByWorkload);
    assertThat(visibleRows()).allMatch(r -> "true".equals(r.get("denied")) && "DROPPED".equals(r.get("verdict")));
    screenshot("dashboard-filtered.png");
    driver.findElement(By.id("filter-clear")).click();
    wait.until(d -> shown() == rows.size());
    driver.findElement(By.id("filter-status")).sendKeys("4xx");
    long client4xx = rows.stream().filter(r -> status(r) / 100 == 4).count();
    assertThat(client4xx).isPositive().isLessThan(rows.size());
    wait.until(d -> shown() == client4xx);
    assertThat(visibleRows()).allMatch(r -> ((String) r.get("status")).startsWith("4"));
    new Select(driver.findElement(By.id("filter-verdict"))).selectByVisibleText("FORWARDED");
    long forwarded4xx = rows.stream().filter(r -> status(r) / 100 == 4 && "FORWARDED".equals(r.getString("verdict")))
        .count();
    assertThat(forwarded4xx).isLessThan(client4xx); // the denials (403, DROPPED) go
    wait.until(d -> shown() == forwarded4xx);
    assertThat(visibleRows()).allMatch(r -> "FORWARDED".equals(r.get("verdict")));
    driver.findElement(By.id("filter-clear")).click();
    wait.until(d -> shown() == rows.size());
    // after the live traffic the graph still shows every service
    wait.until(d -> drawnServices().equals(expectedServices));

    // -- the graph's namespace filter keeps the edges touching it, and their nodes
    driver.findElement(By.id("graph-namespace")).sendKeys("legacy", Keys.TAB);
    wait.until(d -> drawnEdges().keySet().equals(Set.of("legacy/batch|shop/payments")));
    assertThat(new TreeSet<>(this.<List<String>>js(
        "return [...document.querySelectorAll('#graph-nodes .node')].map(n => n.dataset.node)")))
        .containsExactly("legacy/batch", "shop/payments");
    screenshot("dashboard-namespace.png");
    driver.findElement(By.id("graph-namespace")).clear();
    driver.findElement(By.id("graph-namespace")).sendKeys(Keys.TAB);
    wait.until(d -> drawnEdges().keySet().equals(expectedEdges.keySet()));
    screenshot("dashboard.png");
    assertThat(ARTIFACTS.resolve("dashboard.png")).isNotEmptyFile();
  }

  private static int status(JsonObject flow) {
    JsonObject l7 = flow.getJsonObject("l7");
    return l7 == null || l7.getInteger("status") == null ? 0 : l7.getInteger("status");
  }

  private static boolean involves(JsonObject flow, String text) {
    return flow.getString("sourceNode").contains(text) || flow.getString("destinationNode").contains(text);
  }

  @SuppressWarnings("unchecked")
  private <T> T js(String script) {
    return (T) ((JavascriptExecutor) driver).executeScript(script);
  }

  private List<Map<String, Object>> edges() {
    return js("return [...document.querySelectorAll('#graph-edges .edge')].map(e => ({source: e.dataset.source, "
        + "destination: e.dataset.destination, requests: e.dataset.requests, class: e.getAttribute('class'), "
        + "label: e.querySelector('text').textContent}))");
  }

  /** source|destination → requests, as the graph draws them. */
  private Map<String, Long> drawnEdges() {
    Map<String, Long> drawn = new TreeMap<>();
    edges().forEach(e -> drawn.put(e.get("source") + "|" + e.get("destination"),
        Long.parseLong((String) e.get("requests"))));
    return drawn;
  }

  private Set<String> drawnServices() {
    return new TreeSet<>(this.<List<String>>js(
        "return [...document.querySelectorAll('#graph-nodes .node.service')].map(n => n.dataset.node)"));
  }

  private List<Map<String, Object>> denials() {
    return js("return [...document.querySelectorAll('#denied tr.denial')].map(r => ({key: r.dataset.source + '|' + "
        + "r.dataset.destination + '|' + r.dataset.policy, count: r.querySelector('td.num').textContent, "
        + "policyHref: r.querySelector('a.policy-link') && r.querySelector('a.policy-link').href, "
        + "explainHref: r.querySelector('a.explain-link') && r.querySelector('a.explain-link').href}))");
  }

  private long shown() {
    return Long.parseLong(js("return document.getElementById('flow-count').dataset.shown || '-1'"));
  }

  private long total() {
    return Long.parseLong(js("return document.getElementById('flow-count').dataset.total || '-1'"));
  }

  private List<Map<String, Object>> visibleRows() {
    return js("return [...document.querySelectorAll('#flows tbody tr.flow:not([hidden])')].map(r => ({source: "
        + "r.dataset.source, destination: r.dataset.destination, verdict: r.dataset.verdict, denied: r.dataset.denied, "
        + "status: r.dataset.status}))");
  }

  private WebDriver chromium() throws IOException {
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    // the flags that work on a machine without a network or a display (and as root)
    options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--window-size=1400,1400",
        "--user-data-dir=" + Files.createDirectories(tmp.resolve("chromium-profile")));
    options.setCapability("goog:loggingPrefs", Map.of(LogType.BROWSER, "ALL"));
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(CHROMEDRIVER.toFile())
        .usingAnyFreePort()
        .withLogFile(ARTIFACTS.resolve("chromedriver.log").toFile())
        .build();
    Files.createDirectories(ARTIFACTS);
    ChromeDriver d = new ChromeDriver(service, options);
    d.manage().timeouts().pageLoadTimeout(BOUND).scriptTimeout(BOUND);
    return d;
  }

  private void screenshot(String name) {
    try {
      Files.createDirectories(ARTIFACTS);
      Files.write(ARTIFACTS.resolve(name), ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES));
      Files.writeString(ARTIFACTS.resolve(name.replace(".png", ".html")), driver.getPageSource(),
          StandardCharsets.UTF_8);
    } catch (IOException | RuntimeException e) {
      // an artifact is for reading a failure; never the reason for one
      System.err.println("screenshot " + name + " not saved: " + e);
    }
  }

  private HttpResponse<String> get(String path) throws Exception {
    return jdk.send(HttpRequest.newBuilder(running.url(path)).timeout(Duration.ofSeconds(30)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private void produce(List<FlowRecord> flows) {
    var serializer = dev.lattice.kit.topic.LatticeTopics.FLOWS.valueSerde().serializer();
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(cluster.producerProps(), new StringSerializer(),
        new ByteArraySerializer())) {
      for (FlowRecord f : flows) {
        producer.send(new ProducerRecord<>(flowsTopic, FlowGenerator.key(f), serializer.serialize(flowsTopic, f)));
      }
      producer.flush();
    }
  }
}
