package dev.lattice.testkit.eventloop;

import io.vertx.core.impl.VertxThread;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Samples every Vert.x event-loop thread of the JVM (as made by {@link EventLoopThreads}) every few
 * milliseconds and keeps each task that {@link EventLoopPolicy} judges a violation, once per task.
 * Unlike Vert.x's own blocked-thread checker it sees the thread's state, not only its stack, and it
 * does not depend on how logging is configured. One watch per JVM ({@link #global()}), started by the
 * first {@link EventLoopGuard}; its sampler is a daemon thread. Thread-safe.
 */
public final class EventLoopWatch {

  /** Sampling period: short next to the 100 ms limit, long enough to cost nothing. */
  static final Duration PERIOD = Duration.ofMillis(20);

  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
  private static final EventLoopWatch GLOBAL = new EventLoopWatch(EventLoopPolicy.fromSystemProperties());

  private final EventLoopPolicy policy;
  private final ConcurrentLinkedQueue<BlockedEventLoop> seen = new ConcurrentLinkedQueue<>();
  /** Per thread, the start time of the task already reported (sampler thread only). */
  private final Map<Thread, Long> reported = new WeakHashMap<>();
  private Thread sampler;

  EventLoopWatch(EventLoopPolicy policy) {
    this.policy = policy;
  }

  /** The JVM's watch (not started until {@link #start()}). */
  public static EventLoopWatch global() {
    return GLOBAL;
  }

  public EventLoopPolicy policy() {
    return policy;
  }

  /** Starts the sampler if it is not running. Idempotent. */
  public synchronized void start() {
    if (sampler != null) return;
    sampler = new Thread(this::run, "lattice-eventloop-watch");
    sampler.setDaemon(true);
    sampler.setPriority(Thread.MAX_PRIORITY);
    sampler.start();
  }

  /** Stops the sampler (the global watch is never stopped: it dies with the JVM). */
  synchronized void stop() {
    if (sampler != null) sampler.interrupt();
    sampler = null;
  }

  /** Violations seen since the last drain, oldest first; removes them. */
  public List<BlockedEventLoop> drain() {
    List<BlockedEventLoop> out = new ArrayList<>();
    for (BlockedEventLoop b; (b = seen.poll()) != null; ) out.add(b);
    return out;
  }

  /** How many violations wait to be drained. */
  public int pending() {
    return seen.size();
  }

  private void run() {
    while (!Thread.currentThread().isInterrupted()) {
      try {
        sampleOnce();
        Thread.sleep(PERIOD.toMillis());
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        // A thread that died between listing and sampling: the next round sees the new state.
      }
    }
  }

  private static EventLoopPolicy.ThreadSample sample(ThreadInfo info) {
    return new EventLoopPolicy.ThreadSample(info.getThreadState(), List.of(info.getStackTrace()));
  }

  /** One round over every live loop. Called by the sampler thread only. */
  synchronized void sampleOnce() {
    for (VertxThread loop : EventLoopThreads.live()) {
      long start = loop.startTime();
      if (start == 0) continue; // idle: waiting in epoll/select between tasks is what a loop does
      Long already = reported.get(loop);
      if (already != null && already == start) continue;
      Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
      if (elapsed.compareTo(policy.shortest()) <= 0) continue;
      // ThreadMXBean takes state, stack and lock owner in one snapshot (Thread.getState then getStackTrace
      // could pair a wait with the frames of what the thread did next).
      ThreadInfo info = THREADS.getThreadInfo(loop.getId(), Integer.MAX_VALUE);
      if (info == null || loop.startTime() != start) continue; // gone, or the task ended while we looked
      ThreadInfo owner = info.getLockOwnerId() < 0 ? null : THREADS.getThreadInfo(info.getLockOwnerId(), Integer.MAX_VALUE);
      Optional<BlockedEventLoop> violation = policy.judge(loop.getName(), elapsed, sample(info),
          owner == null ? null : sample(owner));
      if (violation.isPresent()) {
        reported.put(loop, start);
        seen.add(violation.get());
      }
    }
  }
}
