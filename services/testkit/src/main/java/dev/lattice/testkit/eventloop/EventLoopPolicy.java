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

  /** The violation this sample is, if it is one. {@code stack} is innermost frame first. */
  public Optional<BlockedEventLoop> judge(String thread, Duration elapsed, Thread.State state, List<StackTraceElement> stack) {
    boolean waits = !firstUseOfAClass(stack) && (state != Thread.State.RUNNABLE || inBlockingIo(stack));
    BlockedEventLoop.Kind kind = waits ? BlockedEventLoop.Kind.BLOCKING : BlockedEventLoop.Kind.BUSY;
    Duration limit = waits ? blocking : busy;
    if (elapsed.compareTo(limit) <= 0) return Optional.empty();
    return Optional.of(new BlockedEventLoop(thread, elapsed, limit, kind, state, stack));
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
