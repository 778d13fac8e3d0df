package dev.lattice.testkit.eventloop;

import java.time.Duration;
import java.util.List;

/**
 * One event-loop task seen running past its limit: which thread, for how long, what the thread was
 * doing when sampled, and why that counts as a violation. Immutable.
 *
 * @param thread the event-loop thread's name
 * @param elapsed how long the task had been running when sampled
 * @param limit the limit it broke
 * @param kind whether it waited (a blocking call) or computed (a long task)
 * @param state the thread's state when sampled
 * @param stack the thread's stack when sampled, innermost frame first
 */
public record BlockedEventLoop(String thread, Duration elapsed, Duration limit, Kind kind, Thread.State state,
                               List<StackTraceElement> stack) {

  /** Why a sample counts. */
  public enum Kind {
    /** Parked, sleeping, waiting on a monitor or in blocking I/O: never right on an event loop. */
    BLOCKING,
    /** Runnable the whole time: a task too long for a loop (or a machine so loaded it could not run it). */
    BUSY
  }

  public BlockedEventLoop {
    stack = List.copyOf(stack);
  }

  /** A few lines a developer can act on: what, how long, and the innermost frames. */
  public String describe(int maxFrames) {
    StringBuilder out = new StringBuilder()
        .append(thread).append(' ')
        .append(kind == Kind.BLOCKING ? "blocked" : "ran").append(" for ").append(elapsed.toMillis()).append(" ms")
        .append(" (limit ").append(limit.toMillis()).append(" ms for ").append(kind).append(", state ").append(state).append(')');
    stack.stream().limit(maxFrames).forEach(f -> out.append("\n\tat ").append(f));
    if (stack.size() > maxFrames) out.append("\n\t... ").append(stack.size() - maxFrames).append(" more");
    return out.toString();
  }
}
