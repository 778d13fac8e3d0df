package dev.lattice.dataplane.upstream.resilience;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RetryBudgetTest {
  private final AtomicLong now = new AtomicLong(1_000_000);
  private final Clock clock =
      new Clock() {
        @Override public ZoneOffset getZone() { return ZoneOffset.UTC; }
        @Override public Clock withZone(java.time.ZoneId z) { return this; }
        @Override public Instant instant() { return Instant.ofEpochMilli(now.get()); }
      };

  @Test
  void fullOutageIsBoundedByRatioTimesRequestsPlusReserve() {
    // 300 requests, each wanting 3 retries; ratio 0.2, 7/s reserve over 10 s -> 60 + 70 = 130 retries.
    RetryBudget budget = new RetryBudget(0.2, 7, Duration.ofSeconds(10), clock);
    int tries = 0;
    for (int i = 0; i < 300; i++) {
      budget.recordRequest();
      tries++;
      for (int r = 0; r < 3 && budget.tryAcquireRetry(); r++) {
        tries++;
      }
      now.addAndGet(10); // 3 s in total, inside one window
    }
    assertThat(tries).isEqualTo(300 + 130);
  }

  @Test
  void windowSlidesWithTheClock() {
    RetryBudget budget = new RetryBudget(0.0, 1, Duration.ofSeconds(2), clock);
    assertThat(budget.tryAcquireRetry()).isTrue();
    assertThat(budget.tryAcquireRetry()).isTrue();
    assertThat(budget.tryAcquireRetry()).isFalse();
    now.addAndGet(2_000);
    assertThat(budget.tryAcquireRetry()).isTrue();
  }

  @Test
  void rejectsBadConfigWithAClearMessage() {
    assertThatThrownBy(() -> new RetryBudget(-1, 0, Duration.ofSeconds(1), clock))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("retryRatio: -1.0 (expected: 0..1000)");
  }

  @Test
  void backoffIsFullJitterCappedAtTenTimesBase() {
    RetryBackoff b = RetryBackoff.of(null, null);
    assertThat(b.max()).isEqualTo(Duration.ofMillis(250));
    assertThat(b.ceilingMillis(1)).isEqualTo(25);
    assertThat(b.ceilingMillis(2)).isEqualTo(50);
    assertThat(b.ceilingMillis(4)).isEqualTo(200);
    assertThat(b.ceilingMillis(5)).isEqualTo(250);
    assertThat(b.ceilingMillis(100)).isEqualTo(250);
    assertThat(b.delay(3, n -> n - 1)).isEqualTo(Duration.ofMillis(99));
    assertThat(b.delay(3, n -> 0)).isEqualTo(Duration.ZERO);
    assertThatThrownBy(() -> RetryBackoff.of(Duration.ofMillis(100), Duration.ofMillis(50)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("backoffMaxInterval");
  }
}
