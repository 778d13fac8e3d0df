package dev.lattice.testkit.eventloop;

import io.vertx.core.impl.VertxThread;
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
