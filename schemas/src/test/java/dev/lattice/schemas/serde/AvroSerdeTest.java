package dev.lattice.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lattice.events.ConfigResource;
import dev.lattice.events.ResourceEvent;
import dev.lattice.events.TrustBundle;
import dev.lattice.events.WorkloadEndpoint;
import dev.lattice.events.config.RouteConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class AvroSerdeTest {

  static Stream<Arguments> everyEventType() {
    List<SpecificRecord> events = new ArrayList<>(List.of(
        SampleEvents.resourceEvent("TrafficRoute", SampleEvents.trafficRoute()),
        SampleEvents.resourceEvent("DestinationPolicy", SampleEvents.destinationPolicy()),
        SampleEvents.resourceEvent("PeerAuthentication", SampleEvents.peerAuthentication()),
        SampleEvents.resourceEvent("AuthorizationPolicy", SampleEvents.authorizationPolicy()),
        SampleEvents.resourceEvent("RateLimitPolicy", SampleEvents.rateLimitPolicy()),
        SampleEvents.resourceRejected(),
        SampleEvents.workloadEndpoint(),
        SampleEvents.registrationEntry(),
        SampleEvents.trustBundle(),
        SampleEvents.svidIssued(),
        SampleEvents.configStatus(),
        SampleEvents.flowRecord(),
        SampleEvents.edgeMetrics()));
    for (Object payload : SampleEvents.configPayloads()) {
      events.add(SampleEvents.configResource(payload));
    }
    return events.stream().map(e -> Arguments.of(e.getSchema().getName() + describeBranch(e), e));
  }

  private static String describeBranch(SpecificRecord event) {
    if (event instanceof ResourceEvent r) {
      return "/" + r.getSpec().getClass().getSimpleName();
    }
    if (event instanceof ConfigResource c) {
      return "/" + c.getPayload().getClass().getSimpleName();
    }
    return "";
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("everyEventType")
  <T extends SpecificRecord> void roundTripsEveryEventType(String name, T event) {
    @SuppressWarnings("unchecked")
    AvroSerde<T> serde = AvroSerde.of((Class<T>) event.getClass());

    byte[] bytes = serde.serializer().serialize("lattice.test.v1", event);
    T decoded = serde.deserializer().deserialize("lattice.test.v1", bytes);

    assertThat(decoded).isEqualTo(event);
    assertThat(bytes[0]).isEqualTo((byte) 0xC3);
    assertThat(bytes[1]).isEqualTo((byte) 0x01);
    long fingerprint = ByteBuffer.wrap(bytes, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    assertThat(fingerprint).isEqualTo(SchemaCatalog.fingerprint(event.getSchema()));
  }

  @Test
  void everyTopicTypeIsInTheBundledCatalog() {
    for (Class<? extends SpecificRecord> type : SchemaCatalog.EVENT_TYPES) {
      Schema schema = org.apache.avro.specific.SpecificData.get().getSchema(type);
      assertThat(SchemaCatalog.bundled().findByFingerprint(SchemaCatalog.fingerprint(schema)))
          .as(type.getSimpleName()).isNotNull();
    }
  }

  @Test
  void nullIsATombstoneBothWays() {
    AvroSerde<TrustBundle> serde = AvroSerde.of(TrustBundle.class);
    assertThat(serde.serialize("t", null)).isNull();
    assertThat(serde.deserialize("t", null)).isNull();
  }

  @Test
  void emptyAndShortBytesHaveABadHeader() {
    AvroSerde<TrustBundle> serde = AvroSerde.of(TrustBundle.class);
    assertThatThrownBy(() -> serde.deserialize("t", new byte[0]))
        .isInstanceOf(UndecodableEventException.class)
        .hasMessage("not Avro single-object encoding (bad header): 0 bytes starting (none)"
            + " (expected: at least 10 bytes starting C3 01)");
    byte[] shortButRightMarker = {(byte) 0xC3, 0x01, 1, 2, 3};
    assertThatThrownBy(() -> serde.deserialize("t", shortButRightMarker))
        .isInstanceOf(UndecodableEventException.class)
        .hasMessageStartingWith("not Avro single-object encoding (bad header): 5 bytes starting C3 01 01 02");
  }

  @Test
  void jsonOrGarbageHasABadHeader() {
    AvroSerde<WorkloadEndpoint> serde = AvroSerde.of(WorkloadEndpoint.class);
    byte[] json = "{\"namespace\":\"default\",\"workload\":\"web\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    assertThatThrownBy(() -> serde.deserialize("t", json))
        .isInstanceOf(UndecodableEventException.class)
        .isInstanceOf(SerializationException.class)
        .hasMessageStartingWith("not Avro single-object encoding (bad header): 40 bytes starting 7B 22 6E 61");
  }

  @Test
  void unknownFingerprintIsNamed() {
    AvroSerde<TrustBundle> serde = AvroSerde.of(TrustBundle.class);
    byte[] bytes = {(byte) 0xC3, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0};
    assertThatThrownBy(() -> serde.deserialize("t", bytes))
        .isInstanceOf(UndecodableEventException.class)
        .hasMessageStartingWith("unknown schema fingerprint 0x0807060504030201 ");
  }

  @Test
  void truncatedBodyIsCorrupt() {
    AvroSerde<WorkloadEndpoint> serde = AvroSerde.of(WorkloadEndpoint.class);
    byte[] bytes = serde.serialize("t", SampleEvents.workloadEndpoint());
    byte[] truncated = Arrays.copyOf(bytes, bytes.length - 7);
    assertThatThrownBy(() -> serde.deserialize("t", truncated))
        .isInstanceOf(UndecodableEventException.class)
        .hasMessageStartingWith("corrupt body for WorkloadEndpoint: ");
  }

  @Test
  void trailingBytesAreCorrupt() {
    AvroSerde<TrustBundle> serde = AvroSerde.of(TrustBundle.class);
    byte[] bytes = serde.serialize("t", SampleEvents.trustBundle());
    byte[] longer = Arrays.copyOf(bytes, bytes.length + 3);
    assertThatThrownBy(() -> serde.deserialize("t", longer))
        .isInstanceOf(UndecodableEventException.class)
        .hasMessage("corrupt body for TrustBundle: trailing bytes after the record (expected: the body to end the message)");
  }

  @Test
  void hugeLengthPrefixIsCorruptNotAnOutOfMemoryError() {
    AvroSerde<TrustBundle> serde = AvroSerde.of(TrustBundle.class);
    byte[] bytes = serde.serialize("t", SampleEvents.trustBundle());
    // the body starts with trustDomain's length: claim ~1 GiB (zig-zag varint of 2^30)
    byte[] forged = Arrays.copyOf(bytes, AvroSerde.HEADER_LENGTH + 5);
    byte[] varint = {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x08};
    System.arraycopy(varint, 0, forged, AvroSerde.HEADER_LENGTH, varint.length);
    assertThatThrownBy(() -> serde.deserialize("t", forged))
        .isInstanceOf(UndecodableEventException.class)
        .hasMessageStartingWith("corrupt body for TrustBundle: ");
  }

  @Test
  void anotherEventTypeIsNotReadAsThisOne() {
    byte[] endpoint = AvroSerde.of(WorkloadEndpoint.class).serialize("t", SampleEvents.workloadEndpoint());
    assertThatThrownBy(() -> AvroSerde.of(TrustBundle.class).deserialize("t", endpoint))
        .isInstanceOf(UndecodableEventException.class)
        .hasMessageStartingWith("schema dev.lattice.events.WorkloadEndpoint (fingerprint 0x")
        .hasMessageContaining("cannot be read as dev.lattice.events.TrustBundle: ");
  }

  @Test
  void encodingAnInvalidEventFailsWithTheTypeName() {
    TrustBundle invalid = SampleEvents.trustBundle();
    invalid.setTrustDomain(null);
    assertThatThrownBy(() -> AvroSerde.of(TrustBundle.class).serialize("t", invalid))
        .isInstanceOf(SerializationException.class)
        .hasMessageStartingWith("cannot encode TrustBundle: ");
  }

  /** The older writer lacks refreshHintSeconds; the current reader fills in the field's default (300). */
  @Test
  void readerWithAnAddedFieldReadsAnOlderWriter() throws IOException {
    Schema current = TrustBundle.getClassSchema();
    Schema older = withoutField(current, "refreshHintSeconds");
    GenericRecord old = new GenericData.Record(older);
    old.put("trustDomain", "lattice.local");
    old.put("x509Authorities", List.of());
    old.put("jwtAuthorities", List.of());
    old.put("sequence", 5L);
    old.put("updatedAt", SampleEvents.T0.toEpochMilli());
    byte[] bytes = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), older).encode(old).array();

    assertThatThrownBy(() -> AvroSerde.of(TrustBundle.class, SchemaCatalog.of(List.of())).deserialize("t", bytes))
        .hasMessageStartingWith("unknown schema fingerprint ");

    TrustBundle decoded = AvroSerde.of(TrustBundle.class, SchemaCatalog.of(List.of(older))).deserialize("t", bytes);
    assertThat(decoded.getTrustDomain()).isEqualTo("lattice.local");
    assertThat(decoded.getSequence()).isEqualTo(5L);
    assertThat(decoded.getUpdatedAt()).isEqualTo(SampleEvents.T0);
    assertThat(decoded.getRefreshHintSeconds()).isEqualTo(300);
  }

  /** The reverse: a newer writer with an extra field, known to the catalog, is read by the current class. */
  @Test
  void currentReaderIgnoresAFieldANewerWriterAdded() throws IOException {
    Schema current = RouteConfig.getClassSchema();
    Schema newer = withExtraStringField(current, "zone", "eu-1");
    GenericRecord route = new GenericData.Record(newer);
    route.put("name", "outbound|9080");
    route.put("virtualHosts", List.of());
    route.put("zone", "eu-2");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    new BinaryMessageEncoder<GenericRecord>(GenericData.get(), newer).encode(route, out);

    RouteConfig decoded = AvroSerde.of(RouteConfig.class, SchemaCatalog.of(List.of(newer)))
        .deserialize("t", out.toByteArray());

    assertThat(decoded.getName()).isEqualTo("outbound|9080");
    assertThat(decoded.getVirtualHosts()).isEmpty();
  }

  @Test
  void oneInstanceDecodesOnManyThreads() throws Exception {
    AvroSerde<ResourceEvent> serde = AvroSerde.of(ResourceEvent.class);
    List<ResourceEvent> events = List.of(
        SampleEvents.resourceEvent("TrafficRoute", SampleEvents.trafficRoute()),
        SampleEvents.resourceEvent("AuthorizationPolicy", SampleEvents.authorizationPolicy()),
        SampleEvents.resourceEvent("RateLimitPolicy", SampleEvents.rateLimitPolicy()));
    List<byte[]> encoded = events.stream().map(e -> serde.serialize("t", e)).toList();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<Boolean>> results = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        results.add(pool.submit(() -> {
          for (int i = 0; i < 2_000; i++) {
            int k = i % events.size();
            if (!serde.deserialize("t", encoded.get(k)).equals(events.get(k))
                || !Arrays.equals(serde.serialize("t", events.get(k)), encoded.get(k))) {
              return false;
            }
          }
          return true;
        }));
      }
      for (Future<Boolean> result : results) {
        assertThat(result.get()).isTrue();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  static Schema withoutField(Schema record, String removed) {
    List<Schema.Field> fields = new ArrayList<>();
    for (Schema.Field f : record.getFields()) {
      if (!f.name().equals(removed)) {
        fields.add(new Schema.Field(f, f.schema()));
      }
    }
    return Schema.createRecord(record.getName(), record.getDoc(), record.getNamespace(), false, fields);
  }

  static Schema withExtraStringField(Schema record, String name, String defaultValue) {
    List<Schema.Field> fields = new ArrayList<>();
    for (Schema.Field f : record.getFields()) {
      fields.add(new Schema.Field(f, f.schema()));
    }
    fields.add(new Schema.Field(name, Schema.create(Schema.Type.STRING), "added later", defaultValue));
    return Schema.createRecord(record.getName(), record.getDoc(), record.getNamespace(), false, fields);
  }
}
