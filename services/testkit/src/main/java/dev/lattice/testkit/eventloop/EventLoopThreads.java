package dev.lattice.testkit.eventloop;

import io.vertx.core.impl.VertxThread;
import io.vertx.core.internal.VertxBootstrap;
import io.vertx.core.spi.VertxThreadFactory;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Vert.x thread factory that remembers every event-loop thread it makes, so {@link EventLoopWatch}
 * can see which task each loop is running and for how long. Vert.x loads it through
 * {@code META-INF/services/io.vertx.core.spi.VertxServiceProvider} for every {@code Vertx} built in a
 * JVM that has the testkit on its class path (tests only: the testkit is never a runtime dependency),
 * so no test has to build its {@code Vertx} in a special way. Threads are held weakly. Thread-safe.
 */
public final class EventLoopThreads implements VertxThreadFactory {

  private static final Set<VertxThread> LOOPS = Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()));

  /**
   * Watches every Vert.x instance but the private ones a library builds for itself (fabric8's HTTP
   * client runs its own Vert.x and deserializes API answers on it): their loops are the library's
   * design, not ours to fix. Told apart by who is building the instance.
   */
  @Override
  public void init(VertxBootstrap bootstrap) {
    if (StackWalker.getInstance().walk(frames -> frames.anyMatch(f -> f.getClassName().startsWith("io.fabric8.")))) return;
    bootstrap.threadFactory(this);
  }

  @Override
  public VertxThread newVertxThread(Runnable target, String name, boolean worker, long maxExecTime, TimeUnit maxExecTimeUnit) {
    VertxThread thread = VertxThreadFactory.INSTANCE.newVertxThread(target, name, worker, maxExecTime, maxExecTimeUnit);
    // Worker threads may block by contract; only the loops are watched.
    if (!worker) LOOPS.add(thread);
    return thread;
  }

  /** The live event-loop threads made so far. */
  static List<VertxThread> live() {
    List<VertxThread> out;
    synchronized (LOOPS) {
      out = new ArrayList<>(LOOPS);
    }
    out.removeIf(t -> !t.isAlive());
    return out;
  }
}
