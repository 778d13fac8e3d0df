package dev.lattice.distributor.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class PushDebouncerTest {

  /** A scheduler whose time only moves when the test says so. */
  private static final class ManualScheduler implements PushDebouncer.Scheduler {
    record Task(Duration delay, Runnable run, boolean[] cancelled) {}
    final List<Task> tasks = new ArrayList<>();

    @Override
    public Runnable schedule(Duration delay, Runnable task) {
      Task t = new Task(delay, task, new boolean[1]);
      tasks.add(t);
      return () -> t.cancelled()[0] = true;
    }

    void runDue() {
      List<Task> due = new ArrayList<>(tasks);
      tasks.clear();
      due.stream().filter(t -> !t.cancelled()[0]).forEach(t -> t.run().run());
    }
  }

  private final ManualScheduler scheduler = new ManualScheduler();
  private final AtomicInteger pushes = new AtomicInteger();

  @Test
  void aThousandSignalsInOneWindowAreOnePush() {
    PushDebouncer d = new PushDebouncer(Duration.ofMillis(50), scheduler, pushes::incrementAndGet);
    for (int i = 0; i < 1000; i++) {
      d.signal();
    }
    assertThat(pushes).hasValue(0);
    assertThat(scheduler.tasks).singleElement().satisfies(t -> assertThat(t.delay()).isEqualTo(Duration.ofMillis(50)));
    scheduler.runDue();
    assertThat(pushes).hasValue(1);
    d.signal();
    scheduler.runDue();
    assertThat(pushes).hasValue(2);
  }

  @Test
  void aZeroWindowPushesAtOnceAndClosingCancelsThePendingPush() {
    PushDebouncer now = new PushDebouncer(Duration.ZERO, scheduler, pushes::incrementAndGet);
    now.signal();
    assertThat(pushes).hasValue(1);
    PushDebouncer later = new PushDebouncer(Duration.ofMillis(10), scheduler, pushes::incrementAndGet);
    later.signal();
    later.close();
    scheduler.runDue();
    later.signal();
    assertThat(pushes).hasValue(1);
    assertThat(later.scheduled()).isFalse();
    assertThatThrownBy(() -> new PushDebouncer(Duration.ofMillis(-1), scheduler, pushes::incrementAndGet))
        .hasMessageContaining("expected: >= 0");
  }
}
