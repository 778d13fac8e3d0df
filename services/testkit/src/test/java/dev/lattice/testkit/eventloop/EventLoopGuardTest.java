package dev.lattice.testkit.eventloop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Events;

/**
 * Runs small guarded test classes through the JUnit engine and checks their outcome: a loop that
 * sleeps or parks fails its test, a loop that hands blocking work to a worker or computes briefly
 * passes. The blocking handlers block until the watch has seen them (bounded), so the outcome does
 * not depend on how fast the machine is.
 */
class EventLoopGuardTest {

  private static final long MAX_BLOCK_NANOS = TimeUnit.SECONDS.toNanos(10);

  /** Runs {@code onLoop} on a fresh Vert.x event loop and waits for it to finish. */
  static void onALoop(Runnable onLoop) throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      CompletableFuture<Void> done = new CompletableFuture<>();
      vertx.runOnContext(v -> {
        try {
          onLoop.run();
          done.complete(null);
        } catch (Throwable t) {
          done.completeExceptionally(t);
        }
      });
      done.get(30, TimeUnit.SECONDS);
    } finally {
      vertx.close().await();
    }
  }

  /** Blocks the calling thread with {@code step} until the global watch reports, or 10 s pass. */
  static void blockUntilSeen(Runnable step) {
    long start = System.nanoTime();
    while (EventLoopWatch.global().pending() == 0 && System.nanoTime() - start < MAX_BLOCK_NANOS) step.run();
  }

  @ExtendWith({OnlyWhenRunByThisTest.class, EventLoopGuard.class})
  static class SleepsOnTheLoop {
    @Test
    void sleeps() throws Exception {
      onALoop(() -> blockUntilSeen(() -> {
        try {
          Thread.sleep(10);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }));
    }
  }

  @ExtendWith({OnlyWhenRunByThisTest.class, EventLoopGuard.class})
  static class ParksOnTheLoop {
    @Test
    void parks() throws Exception {
      onALoop(() -> blockUntilSeen(() -> LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10))));
    }
  }

  @ExtendWith({OnlyWhenRunByThisTest.class, EventLoopGuard.class})
  static class KeepsTheLoopFree {
    @Test
    void blockingWorkOnAWorker() throws Exception {
      Vertx vertx = Vertx.vertx();
      try {
        Integer out = vertx.executeBlocking(() -> {
          Thread.sleep(300);
          return 42;
        }).await();
        assertThat(out).isEqualTo(42);
      } finally {
        vertx.close().await();
      }
    }

    @Test
    void computesForLessThanTheBusyLimit() throws Exception {
      // Runnable for 300 ms of wall time: well past the 100 ms waiting limit, well within the busy one.
      onALoop(() -> {
        long start = System.nanoTime();
        long spins = 0;
        while (System.nanoTime() - start < TimeUnit.MILLISECONDS.toNanos(300)) spins++;
        assertThat(spins).isPositive();
      });
    }
  }

  @AfterEach
  void nothingLeftOver() {
    // The inner runs drain what they caused; anything left would leak into the next test.
    assertThat(EventLoopWatch.global().drain()).isEmpty();
  }

  private static final String SAMPLE_RUN = "lattice.eventloop.sample-run";

  /** Keeps the sample classes out of a plain surefire run (-Dtest=EventLoop* would pick them up). */
  static final class OnlyWhenRunByThisTest implements ExecutionCondition {
    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
      return context.getConfigurationParameter(SAMPLE_RUN).isPresent()
          ? ConditionEvaluationResult.enabled("run by EventLoopGuardTest")
          : ConditionEvaluationResult.disabled("a sample for EventLoopGuardTest, not a test of its own");
    }
  }

  private static Events run(Class<?> testClass) {
    return EngineTestKit.engine("junit-jupiter").configurationParameter(SAMPLE_RUN, "true")
        .selectors(selectClass(testClass)).execute().testEvents();
  }

  private static Throwable onlyFailure(Events events) {
    events.assertStatistics(s -> s.started(1).failed(1));
    return events.failed().list().get(0).getRequiredPayload(TestExecutionResult.class).getThrowable().orElseThrow();
  }

  @Test
  void aLoopThatSleepsFailsItsTestWithTheSleepingFrame() {
    Throwable failure = onlyFailure(run(SleepsOnTheLoop.class));
    assertThat(failure).isInstanceOf(AssertionError.class)
        .hasMessageStartingWith("1 event-loop violation(s) during sleeps() (EventLoopGuard; move the call to executeBlocking or a worker):")
        .hasMessageContaining("vert.x-eventloop-thread-")
        .hasMessageContaining("(limit 100 ms for BLOCKING, state TIMED_WAITING)")
        .hasMessageContaining("java.lang.Thread.sleep(")
        .hasMessageContaining("EventLoopGuardTest$SleepsOnTheLoop");
  }

  @Test
  void aLoopThatParksFailsItsTest() {
    Throwable failure = onlyFailure(run(ParksOnTheLoop.class));
    assertThat(failure).isInstanceOf(AssertionError.class)
        .hasMessageContaining("for BLOCKING, state TIMED_WAITING")
        .hasMessageContaining("java.util.concurrent.locks.LockSupport.parkNanos(");
  }

  @Test
  void aLoopKeptFreePasses() {
    run(KeepsTheLoopFree.class).assertStatistics(s -> s.started(2).succeeded(2).failed(0));
  }

  @Test
  void aTaskRunnableForTooLongIsReportedAsBusy() throws Exception {
    // Its own watch with a short busy limit, so the test need not spin for 2 s; the global watch
    // (2 s) stays silent, which the @AfterEach checks.
    EventLoopWatch watch = new EventLoopWatch(new EventLoopPolicy(Duration.ofMillis(50), Duration.ofMillis(200)));
    watch.start();
    try {
      onALoop(() -> {
        long start = System.nanoTime();
        while (watch.pending() == 0 && System.nanoTime() - start < MAX_BLOCK_NANOS) Thread.onSpinWait();
      });
      List<BlockedEventLoop> seen = watch.drain();
      assertThat(seen).hasSize(1);
      assertThat(seen.get(0).kind()).isEqualTo(BlockedEventLoop.Kind.BUSY);
      assertThat(seen.get(0).state()).isEqualTo(Thread.State.RUNNABLE);
      assertThat(seen.get(0).elapsed()).isGreaterThan(Duration.ofMillis(200));
      assertThat(seen.get(0).thread()).startsWith("vert.x-eventloop-thread-");
    } finally {
      watch.stop();
      // Only a machine that starved both samplers for 2 s makes the global watch see this spin too.
      EventLoopWatch.global().drain().removeIf(b -> b.kind() == BlockedEventLoop.Kind.BUSY);
    }
  }
}
