package dev.lattice.testkit.eventloop;

import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * JUnit 5 extension that fails a test when any Vert.x event loop of the JVM blocked while it ran
 * (see {@link EventLoopPolicy} for the limits: 100 ms waiting, 2 s runnable). Checked after each test
 * (after its {@code @AfterEach}, so closing Vert.x counts), before each test (what the class set-up
 * did) and after all (what {@code @AfterAll} did). Modules turn it on for every test with the Maven
 * property {@code lattice.eventloop.guard=true} (JUnit extension auto-detection, registered in this
 * jar's {@code META-INF/services}); one class can use {@code @ExtendWith(EventLoopGuard.class)}.
 * Stateless; the shared state is {@link EventLoopWatch#global()}.
 */
public final class EventLoopGuard implements BeforeAllCallback, BeforeEachCallback, AfterEachCallback, AfterAllCallback {

  private static final int FRAMES = 15;

  @Override
  public void beforeAll(ExtensionContext context) {
    EventLoopWatch.global().start();
    failIfBlocked("before " + context.getDisplayName());
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    failIfBlocked("before " + context.getDisplayName() + " (class set-up or an earlier test's leftovers)");
  }

  @Override
  public void afterEach(ExtensionContext context) {
    failIfBlocked(context.getDisplayName());
  }

  @Override
  public void afterAll(ExtensionContext context) {
    failIfBlocked("tear-down of " + context.getDisplayName());
  }

  private static void failIfBlocked(String during) {
    List<BlockedEventLoop> blocked = EventLoopWatch.global().drain();
    if (blocked.isEmpty()) return;
    throw new AssertionError(blocked.size() + " event-loop violation(s) during " + during
        + " (EventLoopGuard; move the call to executeBlocking or a worker):\n"
        + blocked.stream().map(b -> b.describe(FRAMES)).collect(Collectors.joining("\n")));
  }
}
