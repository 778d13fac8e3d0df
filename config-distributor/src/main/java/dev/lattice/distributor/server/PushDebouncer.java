package dev.lattice.distributor.server;

import java.time.Duration;
import java.util.Objects;

/**
 * Coalesces a burst of snapshot changes into one push: the first signal starts a window, every signal
 * inside it is absorbed, and the push runs once when the window ends — so a push is at most
 * {@code window} late and a thousand edits in one window are one push. Time comes from the
 * {@link Scheduler} (a Vert.x timer in the server, a manual one in tests). Not thread-safe: signal and
 * close on the scheduler's thread.
 */
public final class PushDebouncer implements AutoCloseable {

  /** Runs a task after a delay. */
  public interface Scheduler {
    /** Schedules {@code task} after {@code delay}; the result cancels it. */
    Runnable schedule(Duration delay, Runnable task);
  }

  private final Duration window;
  private final Scheduler scheduler;
  private final Runnable push;
  private Runnable cancelScheduled;
  private boolean closed;

  /** @param window zero pushes on every signal at once */
  public PushDebouncer(Duration window, Scheduler scheduler, Runnable push) {
    if (window.isNegative()) {
      throw new IllegalArgumentException("debounce window: " + window + " (expected: >= 0)");
    }
    this.window = window;
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    this.push = Objects.requireNonNull(push, "push");
  }

  /** A change happened: push at the end of the current window (starting one if none is open). */
  public void signal() {
    if (closed) {
      return;
    }
    if (window.isZero()) {
      push.run();
      return;
    }
    if (cancelScheduled == null) {
      cancelScheduled = scheduler.schedule(window, () -> {
        cancelScheduled = null;
        if (!closed) {
          push.run();
        }
      });
    }
  }

  /** Whether a push is scheduled. */
  public boolean scheduled() {
    return cancelScheduled != null;
  }

  @Override
  public void close() {
    closed = true;
    if (cancelScheduled != null) {
      cancelScheduled.run();
      cancelScheduled = null;
    }
  }
}
