package dev.lattice.kit.deadletter;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

class DeadLettersTest {

  private static final byte[] KEY = "Kind/ns/name".getBytes(StandardCharsets.UTF_8);
  private static final byte[] GARBAGE = {0x00, (byte) 0xFF, 0x42};

  @Test
  void deadLetterKeepsTheOriginalBytesAndNamesWhereAndWhy() {
    Headers original = new RecordHeaders().add("trace", "t-1".getBytes(StandardCharsets.UTF_8))
        .add(DeadLetters.REASON, "stale".getBytes(StandardCharsets.UTF_8));
    ProducerRecord<byte[], byte[]> dead = DeadLetters.record("lattice.resources.v1", 4, 1234L, KEY, GARBAGE,
        original, null, new SerializationException("not Avro single-object encoding"));

    assertThat(dead.topic()).isEqualTo("lattice.resources.v1.dlq");
    assertThat(dead.key()).isSameAs(KEY);
    assertThat(dead.value()).isSameAs(GARBAGE);
    assertThat(DeadLetters.header(dead.headers(), DeadLetters.REASON)).isEqualTo("not Avro single-object encoding");
    assertThat(DeadLetters.header(dead.headers(), DeadLetters.TOPIC)).isEqualTo("lattice.resources.v1");
    assertThat(DeadLetters.header(dead.headers(), DeadLetters.PARTITION)).isEqualTo("4");
    assertThat(DeadLetters.header(dead.headers(), DeadLetters.OFFSET)).isEqualTo("1234");
    assertThat(DeadLetters.header(dead.headers(), DeadLetters.ERROR))
        .isEqualTo(SerializationException.class.getName());
    assertThat(DeadLetters.header(dead.headers(), "trace")).isEqualTo("t-1");
    assertThat(dead.headers().headers(DeadLetters.REASON)).hasSize(1);
  }

  @Test
  void anExplicitReasonWinsAndAMissingErrorIsNone() {
    ProducerRecord<byte[], byte[]> dead = DeadLetters.record("t", 0, 0L, null, null, null,
        "record without a key", null);
    assertThat(DeadLetters.header(dead.headers(), DeadLetters.REASON)).isEqualTo("record without a key");
    assertThat(DeadLetters.header(dead.headers(), DeadLetters.ERROR)).isEqualTo("none");
    assertThat(DeadLetters.header(dead.headers(), "absent")).isNull();
  }

  @Test
  void overlongReasonsAreTruncated() {
    ProducerRecord<byte[], byte[]> dead = DeadLetters.record("t", 0, 0L, null, null, null, "x".repeat(5000), null);
    assertThat(DeadLetters.header(dead.headers(), DeadLetters.REASON)).hasSize(2001).endsWith("…");
  }
}
