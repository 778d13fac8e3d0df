package dev.lattice.dataplane.filter.trace;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** W3C Trace Context level 1 parsing and continuation (https://www.w3.org/TR/trace-context/#traceparent-header). */
class TraceContextTest {
  private static final String VALID = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

  private static RandomGenerator random() {
    return new SplittableRandom(42);
  }

  @Test
  void aValidHeaderIsContinuedWithANewSpanAndTheCallerAsParent() {
    TraceContext t = TraceContext.continueFrom(VALID, random());
    assertThat(t.traceId()).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
    assertThat(t.parentSpanId()).isEqualTo("00f067aa0ba902b7");
    assertThat(t.spanId()).hasSize(16).matches("[0-9a-f]{16}").isNotEqualTo("00f067aa0ba902b7");
    assertThat(t.sampled()).isTrue();
    assertThat(t.header()).isEqualTo("00-4bf92f3577b34da6a3ce929d0e0e4736-" + t.spanId() + "-01");
    assertThat(TraceContext.isValid(t.header())).isTrue();
  }

  @Test
  void notSampledStaysNotSampled() {
    TraceContext t = TraceContext.continueFrom(VALID.replace("-01", "-00"), random());
    assertThat(t.sampled()).isFalse();
    assertThat(t.header()).endsWith("-00");
  }

  @Test
  void aHigherVersionWithMoreFieldsIsAccepted() {
    assertThat(TraceContext.isValid("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra")).isTrue();
    // and continued as version 00
    assertThat(TraceContext.continueFrom("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", random())
        .header()).startsWith("00-4bf92f3577b34da6a3ce929d0e0e4736-");
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "",
      "garbage",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",       // short flags
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",    // version 00 with extra fields
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",      // upper-case hex
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",      // version ff is invalid
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",      // all-zero trace id
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",      // all-zero parent id
      "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",      // wrong separator
      "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",      // non-hex
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",     // higher version, no dash before extra
  })
  void anInvalidHeaderStartsANewTrace(String header) {
    assertThat(TraceContext.isValid(header)).isFalse();
    TraceContext t = TraceContext.continueFrom(header, random());
    assertThat(t.parentSpanId()).isNull();
    assertThat(t.traceId()).matches("[0-9a-f]{32}").isNotEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
    assertThat(t.sampled()).isTrue();
  }

  @Test
  void aMissingHeaderStartsANewTrace() {
    TraceContext a = TraceContext.continueFrom(null, random());
    assertThat(a.parentSpanId()).isNull();
    assertThat(TraceContext.isValid(a.header())).isTrue();
  }
}
