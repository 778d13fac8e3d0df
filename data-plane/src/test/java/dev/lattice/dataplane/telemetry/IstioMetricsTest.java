package dev.lattice.dataplane.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lattice.events.FlowDirection;
import dev.lattice.events.FlowVerdict;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** Istio's metric names, labels and buckets as Prometheus scrapes them. */
class IstioMetricsTest {

  static FlowObservation inbound(int status, long latencyMicros) {
    FlowObservation o = new FlowObservation();
    o.start = Instant.parse("2026-12-03T10:00:00Z");
    o.http = true;
    o.direction = FlowDirection.INBOUND;
    o.source.workload("shop", "frontend", "spiffe://lattice.local/ns/shop/sa/frontend");
    o.destination.workload("shop", "catalog", "spiffe://lattice.local/ns/shop/sa/catalog");
    o.destinationVersion = "v1";
    o.destinationService = "catalog.shop";
    o.status = status;
    o.mtls = true;
    o.latencyMicros = latencyMicros;
    o.bytesIn = 0;
    o.bytesOut = 1024;
    return o;
  }

  @Test
  void requestsCarryIstiosNamesLabelsAndBuckets() {
    IstioMetrics m = new IstioMetrics();
    m.accept(inbound(200, 3_000));
    m.accept(inbound(200, 7_000));
    FlowObservation failed = inbound(503, 100);
    failed.flag(ResponseFlag.UF);
    m.accept(failed);
    String text = m.scrape();

    String ok = "connection_security_policy=\"mutual_tls\",destination_app=\"catalog\",destination_canonical_revision=\"v1\","
        + "destination_canonical_service=\"catalog\",destination_principal=\"spiffe://lattice.local/ns/shop/sa/catalog\","
        + "destination_service=\"catalog.shop\",destination_service_name=\"catalog\",destination_service_namespace=\"shop\","
        + "destination_version=\"v1\",destination_workload=\"catalog\",destination_workload_namespace=\"shop\","
        + "grpc_response_status=\"\",reporter=\"destination\",request_protocol=\"http\",response_code=\"200\","
        + "response_flags=\"-\",source_app=\"frontend\",source_canonical_revision=\"latest\","
        + "source_canonical_service=\"frontend\",source_principal=\"spiffe://lattice.local/ns/shop/sa/frontend\","
        + "source_version=\"unknown\",source_workload=\"frontend\",source_workload_namespace=\"shop\"";
    assertThat(text).contains("istio_requests_total{" + ok + "} 2.0");
    assertThat(text).contains("istio_requests_total{" + ok.replace("response_code=\"200\"", "response_code=\"503\"")
        .replace("response_flags=\"-\"", "response_flags=\"UF\"") + "} 1.0");
    // 3 ms and 7 ms: both in le=10, one in le=5
    assertThat(text).contains("istio_request_duration_milliseconds_bucket{" + ok + ",le=\"5.0\"} 1");
    assertThat(text).contains("istio_request_duration_milliseconds_bucket{" + ok + ",le=\"10.0\"} 2");
    assertThat(text).contains("istio_request_duration_milliseconds_sum{" + ok + "} 10.0");
    assertThat(text).contains("istio_response_bytes_bucket{" + ok + ",le=\"1000.0\"} 0");
    assertThat(text).contains("istio_response_bytes_bucket{" + ok + ",le=\"10000.0\"} 2");
    assertThat(text).contains("istio_request_bytes_count{" + ok + "} 2");
  }

  @Test
  void tcpConnectionsAndUnknownCallersUseIstiosDefaults() {
    IstioMetrics m = new IstioMetrics();
    FlowObservation tcp = new FlowObservation();
    tcp.http = false;
    tcp.direction = FlowDirection.OUTBOUND;
    tcp.source.address("127.0.0.99", 5000);
    tcp.destinationService = "db.data";
    tcp.verdict = FlowVerdict.FORWARDED;
    tcp.bytesIn = 10;
    tcp.bytesOut = 20;
    m.accept(tcp);
    String text = m.scrape();
    assertThat(text).contains("istio_tcp_connections_opened_total{").contains("istio_tcp_connections_closed_total{");
    assertThat(text).containsPattern("istio_tcp_sent_bytes_total\\{[^}]*reporter=\"source\"[^}]*source_workload=\"unknown\"[^}]*} 20.0");
    assertThat(text).containsPattern("istio_tcp_received_bytes_total\\{[^}]*connection_security_policy=\"unknown\"[^}]*} 10.0");
    assertThat(text).containsPattern("istio_tcp_received_bytes_total\\{[^}]*request_protocol=\"tcp\"");
  }

  @Test
  void labelSetsAreBoundedAndTheExcessCounted() {
    IstioMetrics m = new IstioMetrics(2);
    m.accept(inbound(200, 1));
    m.accept(inbound(201, 1));
    m.accept(inbound(202, 1));
    m.accept(inbound(200, 1));
    assertThat(m.overflowed()).isEqualTo(1);
    assertThat(m.scrape()).contains("response_code=\"200\"").contains("response_code=\"201\"").doesNotContain("response_code=\"202\"");
  }
}
