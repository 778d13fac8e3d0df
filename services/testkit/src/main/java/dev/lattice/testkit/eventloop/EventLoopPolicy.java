package dev.lattice.testkit.eventloop;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Decides whether a sampled event-loop task is a violation. Pure: a function of the sample, so it is
 * tested with made-up stacks. Two limits, because the machine that runs CI has two cores shared by
 * many builds:
 * <ul>
 *   <li>{@code blocking} (default 100 ms) for a loop that <em>waits</em>: parked ({@code Future.get},
 *   latches, locks, queues), sleeping, waiting on or for a monitor, or inside blocking socket/file I/O
 *   that Netty did not issue. Waiting is wrong on a loop however fast the machine is, and a loaded
 *   machine does not make a thread wait, so a tight limit does not flake.</li>
 *   <li>{@code busy} (default 2 s, Vert.x's own warning limit) for a loop that is <em>runnable</em> the
 *   whole time. CPU starvation, GC pauses and first-use class loading stretch correct code on a loaded
 *   machine by 10x or more, so a tight limit here would flake; 2 s still catches a parse or a crypto
 *   step that belongs on a worker.</li>
 * </ul>
 * Class loading and static initialisers count as busy even when they read jars or wait for a class
 * loader lock held by another thread: that is the JVM's first-use cost, not a blocking call in our code.
 * So does a wait whose innermost non-JDK frame is Vert.x's or Netty's (their short internal locks), and a
 * wait for a lock whose holder is runnable (contention: a loaded machine may deschedule the holder);
 * waiting for a holder that waits or does I/O, or for a future, a sleep, a queue, or a Kafka
 * {@code send} waiting for metadata, is blocking.
 *
 * @param blocking limit for a waiting loop
 * @param busy limit for a runnable loop
 */
public record EventLoopPolicy(Duration blocking, Duration busy) {

  /** The limits the guard uses unless the system properties below say otherwise. */
  public static final Duration DEFAULT_BLOCKING = Duration.ofMillis(100);
  public static final Duration DEFAULT_BUSY = Duration.ofSeconds(2);
  /** System properties (milliseconds) that override the defaults for one run. */
  public static final String BLOCKING_PROPERTY = "lattice.eventloop.blocking-limit-ms";
  public static final String BUSY_PROPERTY = "lattice.eventloop.busy-limit-ms";

  public EventLoopPolicy {
    if (blocking.isNegative() || blocking.isZero()) throw new IllegalArgumentException("blocking: " + blocking + " (expected: > 0)");
    if (busy.compareTo(blocking) < 0) throw new IllegalArgumentException("busy: " + busy + " (expected: >= blocking " + blocking + ")");
  }

  /** The defaults, each overridable by its system property. */
  public static EventLoopPolicy fromSystemProperties() {
    return new EventLoopPolicy(
        Duration.ofMillis(Long.getLong(BLOCKING_PROPERTY, DEFAULT_BLOCKING.toMillis())),
        Duration.ofMillis(Long.getLong(BUSY_PROPERTY, DEFAULT_BUSY.toMillis())));
  }

  /** The shortest time after which a sample can be a violation (the watch ignores younger tasks). */
  public Duration shortest() {
    return blocking;
  }

  /**
   * A thread as sampled: its state and its stack (innermost frame first), taken together.
   *
   * @param state the thread's state
   * @param stack its frames, innermost first
   */
  public record ThreadSample(Thread.State state, List<StackTraceElement> stack) {
    public ThreadSample {
      stack = List.copyOf(stack);
    }
  }

  /** The violation this sample is, if it is one (no lock owner known). */
  public Optional<BlockedEventLoop> judge(String thread, Duration elapsed, Thread.State state, List<StackTraceElement> stack) {
    return judge(thread, elapsed, new ThreadSample(state, stack), null);
  }

  /**
   * The violation this sample is, if it is one. {@code lockOwner} is the thread holding the lock the
   * loop waits for, if any: a loop waiting for a lock held by a thread that computes is contention
   * (busy: the holder may just be descheduled on a loaded machine); waiting for a holder that itself
   * waits or does I/O is blocking.
   */
  public Optional<BlockedEventLoop> judge(String thread, Duration elapsed, ThreadSample loop, ThreadSample lockOwner) {
    List<StackTraceElement> stack = loop.stack();
    boolean waits;
    if (firstUseOfAClass(stack)) {
      waits = false;
    } else if (inBlockingIo(stack)) {
      waits = true;
    } else if (loop.state() == Thread.State.RUNNABLE || insideTheLoopFramework(stack)) {
      waits = false;
    } else if (lockOwner != null) {
      // The holder computes (or loads a class): contention. The holder waits or does I/O: blocking.
      boolean holderComputes = firstUseOfAClass(lockOwner.stack())
          || (lockOwner.state() == Thread.State.RUNNABLE && !inBlockingIo(lockOwner.stack()));
      waits = !holderComputes;
    } else {
      waits = true;
    }
    BlockedEventLoop.Kind kind = waits ? BlockedEventLoop.Kind.BLOCKING : BlockedEventLoop.Kind.BUSY;
    Duration limit = waits ? blocking : busy;
    if (elapsed.compareTo(limit) <= 0) return Optional.empty();
    return Optional.of(new BlockedEventLoop(thread, elapsed, limit, kind, loop.state(), stack));
  }

  private static boolean firstUseOfAClass(List<StackTraceElement> stack) {
    for (StackTraceElement f : stack) {
      if ("<clinit>".equals(f.getMethodName())) return true;
      if ("loadClass".equals(f.getMethodName()) && f.getClassName().endsWith("ClassLoader")) return true;
      if (f.getClassName().startsWith("jdk.internal.loader.")) return true;
    }
    return false;
  }

  /**
   * Vert.x and Netty take short internal locks on the loop (connection pools, channel set-up); on a loaded
   * machine the holder may be descheduled for 100 ms. That wait is the framework's, not a blocking call
   * of ours, so it counts as busy.
   */
  private static boolean insideTheLoopFramework(List<StackTraceElement> stack) {
    for (StackTraceElement f : stack) {
      String c = f.getClassName();
      if (c.startsWith("java.") || c.startsWith("sun.") || c.startsWith("jdk.")) continue;
      return c.startsWith("io.vertx.") || c.startsWith("io.netty.");
    }
    return false;
  }

  /**
   * A runnable thread inside a JDK socket/file/process call that no Netty frame issued: Netty's own
   * non-blocking reads and writes are fine, a {@code Files.write} or a blocking socket is not.
   */
  private static boolean inBlockingIo(List<StackTraceElement> stack) {
    if (stack.isEmpty() || !isBlockingIoFrame(stack.get(0))) return false;
    for (StackTraceElement f : stack) {
      String c = f.getClassName();
      if (c.startsWith("io.netty.")) return false;
      if (!c.startsWith("java.") && !c.startsWith("sun.") && !c.startsWith("jdk.")) return true;
    }
    return true;
  }

  private static boolean isBlockingIoFrame(StackTraceElement f) {
    String c = f.getClassName();
    return c.startsWith("sun.nio.ch.") || c.startsWith("sun.nio.fs.") || c.startsWith("java.net.")
        || c.equals("java.io.FileInputStream") || c.equals("java.io.FileOutputStream")
        || c.equals("java.io.RandomAccessFile") || c.equals("java.io.UnixFileSystem")
        || c.startsWith("java.lang.ProcessImpl") || c.startsWith("java.lang.ProcessHandleImpl");
  }
}
