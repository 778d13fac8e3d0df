package dev.lattice.cli.distributor;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** The proxy table's layout from a /v1/proxies body: states per type, NACK detail, ages on a fixed instant. */
class ProxyStatusTableTest {

  static final Instant NOW = Instant.parse("2026-12-03T12:00:00Z");

  @Test
  void everyStateWithTheAckedVersionAndTheNackDetailBelow() throws Exception {
    String body = """
        {"instance": "d-1", "proxies": [
          {"node": "a", "connected": true, "connected_since": "2026-12-03T11:59:15Z",
           "types": {"CLUSTER": {"state": "SYNCED", "acked": "0123456789abcdef", "served": "0123456789abcdef"},
                     "ROUTE": {"state": "STALE", "acked": "", "served": "ffff"}}},
          {"node": "b", "connected": false, "connected_since": "2026-12-03T09:00:00Z",
           "types": {"CLUSTER": {"state": "NACKED", "acked": "aaaa", "served": "bbbb"},
                     "ROUTE": {"state": "SYNCED", "acked": "cccc", "served": "cccc"}},
           "last_nack": {"type": "CLUSTER", "name": "web", "version": "bbbbbbbbbbbb", "error": "port: 0 (expected: 1..65535)"}}
        ]}""";
    StringWriter out = new StringWriter();
    int notSynced = ProxyStatusTable.print(new ObjectMapper().readTree(body), NOW, new PrintWriter(out));
    assertThat(notSynced).isEqualTo(2);
    var lines = out.toString().lines().toList();
    assertThat(lines.get(0)).matches("NODE\\s+CLUSTER\\s+ROUTE\\s+CONNECTED\\s+AGE");
    assertThat(lines.get(1)).matches("a\\s+SYNCED \\(01234567\\)\\s+STALE\\s+yes\\s+45s");
    assertThat(lines.get(2)).matches("b\\s+NACKED \\(aaaa\\)\\s+SYNCED \\(cccc\\)\\s+no\\s+3h");
    assertThat(lines.get(3)).isEqualTo("b NACKED CLUSTER web @bbbbbbbb: port: 0 (expected: 1..65535)");
  }

  @Test
  void noProxiesSaysSo() throws Exception {
    StringWriter out = new StringWriter();
    ProxyStatusTable.print(new ObjectMapper().readTree("{\"instance\":\"d-1\",\"proxies\":[]}"), NOW, new PrintWriter(out));
    assertThat(out.toString().strip()).isEqualTo("No proxies connected to the distributor (instance d-1).");
  }

  @ParameterizedTest
  @CsvSource({"2026-12-03T11:59:59Z, 1s", "2026-12-03T11:50:00Z, 10m", "2026-12-02T12:00:00Z, 24h",
      "2026-11-30T12:00:00Z, 3d", "2026-12-03T12:00:05Z, 0s", "not-a-time, -", "'', -"})
  void agesAreKubectlLike(String since, String age) {
    assertThat(ProxyStatusTable.age(since, NOW)).isEqualTo(age);
  }
}
