package dev.lattice.cli;

import dev.lattice.cli.distributor.ProxyStatusTable;
import dev.lattice.cli.support.ApiClient;
import dev.lattice.cli.support.ApiCommand;
import dev.lattice.cli.support.CliException;
import dev.lattice.cli.support.ExitCode;
import dev.lattice.cli.support.ServiceEndpoints;
import dev.lattice.cli.support.TableWriter;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.util.Map;
import picocli.CommandLine.Command;

/**
 * {@code lattice status}: probes Kafka (TCP connect) and every service's {@code /readyz}, prints one row
 * each, and exits 0 only when all of them are up and ready. When the distributor is ready, a second table shows
 * the proxies' config state per type (SYNCED / STALE / NACKED, acked version, connected, age) from its
 * {@code GET /v1/proxies}.
 */
@Command(name = "status", description = {
    "Show whether Kafka and each service are up and ready, then each proxy's config state (SYNCED/STALE/NACKED per type).",
    "Services come from the running stack's endpoints file (.lattice/endpoints.properties), else the fixed local ports.",
    "Exit code 0 when everything is ready, 1 otherwise."})
final class StatusCommand extends ApiCommand {

  private static final String DISTRIBUTOR = "distributor";

  @Override
  protected int run() {
    ServiceEndpoints endpoints = endpoints();
    TableWriter table = new TableWriter("service", "url", "status", "detail");
    boolean allReady = true;
    boolean distributorReady = false;

    String kafkaState = probeKafka(endpoints.kafka());
    allReady &= kafkaState.isEmpty();
    table.row("kafka", endpoints.kafka(), kafkaState.isEmpty() ? "up" : "down", kafkaState);

    for (Map.Entry<String, URI> e : endpoints.services().entrySet()) {
      String[] result = probeService(e.getKey(), e.getValue());
      allReady &= result[0].equals("ready");
      distributorReady |= e.getKey().equals(DISTRIBUTOR) && result[0].equals("ready");
      table.row(e.getKey(), e.getValue(), result[0], result[1]);
    }
    table.print(out());
    URI distributor = endpoints.services().get(DISTRIBUTOR);
    if (distributor != null && distributorReady) {
      // the proxies' config state, like istioctl proxy-status
      try {
        ApiClient.Response proxies = api().get(DISTRIBUTOR, distributor.resolve("/v1/proxies")).requireSuccess();
        out().println();
        ProxyStatusTable.print(proxies.json(), root().clock().instant(), out());
      } catch (CliException e) {
        err().println("proxies: " + e.getMessage());
        err().flush();
      }
    }
    if (root().verbose()) {
      out().println("(endpoints from " + endpoints.source() + ")");
      out().flush();
    }
    return allReady ? ExitCode.OK : ExitCode.ERROR;
  }

  /** Empty when a TCP connection to the first bootstrap server opens, else why not. */
  private String probeKafka(String bootstrap) {
    String first = bootstrap.split(",")[0].trim();
    int colon = first.lastIndexOf(':');
    if (colon < 0) return "bootstrap '" + first + "' has no port";
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(first.substring(0, colon), Integer.parseInt(first.substring(colon + 1))),
          (int) root().timeout().toMillis());
      return "";
    } catch (java.net.ConnectException e) {
      return "connection refused";
    } catch (IOException | NumberFormatException e) {
      return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
  }

  /** {status, detail}: ready / not ready (failing checks) / down (why). */
  private String[] probeService(String name, URI base) {
    try {
      ApiClient.Response response = api().get(name, base.resolve("/readyz"));
      if (response.status() == 200) return new String[] {"ready", ""};
      if (response.status() == 503) {
        StringBuilder failing = new StringBuilder();
        try {
          response.json().path("failing").forEach(f -> {
            if (failing.length() > 0) failing.append("; ");
            failing.append(f.asText());
          });
        } catch (CliException notJson) {
          failing.append(response.serverMessage());
        }
        return new String[] {"not ready", failing.toString()};
      }
      return new String[] {"not ready", "HTTP " + response.status()};
    } catch (CliException unreachable) {
      String msg = unreachable.getMessage();
      int at = msg.indexOf(": ", msg.indexOf(" at "));
      String why = at < 0 ? msg : msg.substring(at + 2);
      return new String[] {"down", why.replace(" (is ./lattice up running?)", "")};
    }
  }
}
