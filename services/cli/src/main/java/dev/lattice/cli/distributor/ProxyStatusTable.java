package dev.lattice.cli.distributor;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lattice.cli.support.TableWriter;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;

/**
 * The proxy table of {@code lattice status} (like {@code istioctl proxy-status}), from the distributor's
 * {@code GET /v1/proxies}: per node, each config type's state (SYNCED / STALE / NACKED) with the acked version
 * (first 8 characters), connected or not, how long ago it connected, and the last NACK's detail below the
 * table. Stateless.
 */
public final class ProxyStatusTable {

  private ProxyStatusTable() {}

  /**
   * Prints the table for {@code proxies} (the JSON body of {@code /v1/proxies}); {@code now} is the
   * instant ages are counted to. Returns the number of nodes not SYNCED on every type.
   */
  public static int print(JsonNode proxies, Instant now, PrintWriter out) {
    JsonNode list = proxies.path("proxies");
    if (!list.isArray() || list.isEmpty()) {
      out.println("No proxies connected to the distributor" + instance(proxies) + ".");
      out.flush();
      return 0;
    }
    List<String> types = new ArrayList<>();
    list.get(0).path("types").fieldNames().forEachRemaining(types::add);
    List<String> header = new ArrayList<>(List.of("node"));
    types.forEach(header::add);
    header.add("connected");
    header.add("age");
    TableWriter table = new TableWriter(header.toArray(String[]::new));
    List<String> nacks = new ArrayList<>();
    int notSynced = 0;
    for (JsonNode p : list) {
      List<Object> row = new ArrayList<>();
      String node = p.path("node").asText();
      row.add(node);
      boolean synced = true;
      for (String type : types) {
        JsonNode t = p.path("types").path(type);
        String state = t.path("state").asText("?");
        synced &= state.equals("SYNCED");
        String acked = t.path("acked").asText("");
        row.add(acked.isEmpty() ? state : state + " (" + (acked.length() > 8 ? acked.substring(0, 8) : acked) + ")");
      }
      if (!synced) notSynced++;
      boolean connected = p.path("connected").asBoolean(false);
      row.add(connected ? "yes" : "no");
      row.add(age(p.path("connected_since").asText(null), now));
      table.row(row.toArray());
      JsonNode nack = p.path("last_nack");
      if (nack.isObject()) {
        nacks.add(node + " NACKED " + nack.path("type").asText() + " " + nack.path("name").asText() + " @"
            + abbreviate(nack.path("version").asText()) + ": " + nack.path("error").asText());
      }
    }
    table.print(out);
    nacks.forEach(out::println);
    out.flush();
    return notSynced;
  }

  private static String instance(JsonNode proxies) {
    String instance = proxies.path("instance").asText("");
    return instance.isEmpty() ? "" : " (instance " + instance + ")";
  }

  private static String abbreviate(String version) {
    return version.length() > 8 ? version.substring(0, 8) : version;
  }

  /** kubectl-style age: 45s, 12m, 3h, 2d; "-" when unknown. */
  static String age(String since, Instant now) {
    if (since == null || since.isEmpty() || since.equals("null")) return "-";
    try {
      Duration d = Duration.between(Instant.parse(since), now);
      if (d.isNegative()) return "0s";
      long s = d.toSeconds();
      if (s < 120) return s + "s";
      if (s < 2 * 3600) return (s / 60) + "m";
      if (s < 2 * 86400) return (s / 3600) + "h";
      return (s / 86400) + "d";
    } catch (DateTimeParseException e) {
      return "-";
    }
  }
}
