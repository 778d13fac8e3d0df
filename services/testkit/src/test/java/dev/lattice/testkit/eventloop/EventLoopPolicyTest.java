package dev.lattice.testkit.eventloop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class EventLoopPolicyTest {

  private final EventLoopPolicy policy = new EventLoopPolicy(Duration.ofMillis(100), Duration.ofSeconds(2));

  private static StackTraceElement f(String cls, String method) {
    return new StackTraceElement(cls, method, null, -1);
  }

  private static List<StackTraceElement> stack(StackTraceElement... frames) {
    return Arrays.asList(frames);
  }

  private static final List<StackTraceElement> PARKED = stack(
      f("jdk.internal.misc.Unsafe", "park"), f("java.util.concurrent.locks.LockSupport", "park"),
      f("java.util.concurrent.CompletableFuture", "get"), f("dev.lattice.policy.api.ResourceRoutes", "apply"));
  private static final List<StackTraceElement> SLEEPING = stack(
      f("java.lang.Thread", "sleep0"), f("java.lang.Thread", "sleep"), f("dev.lattice.x.Handler", "handle"));
  private static final List<StackTraceElement> COMPUTING = stack(
      f("org.yaml.snakeyaml.parser.ParserImpl", "parseNode"), f("dev.lattice.policy.api.ResourceRoutes", "apply"));
  private static final List<StackTraceElement> WRITING_A_FILE = stack(
      f("sun.nio.ch.FileDispatcherImpl", "force0"), f("sun.nio.ch.FileChannelImpl", "force"),
      f("java.nio.file.Files", "write"), f("dev.lattice.identity.attestation.JoinTokenStore", "save"));
  private static final List<StackTraceElement> NETTY_WRITING = stack(
      f("sun.nio.ch.SocketDispatcher", "write0"), f("sun.nio.ch.SocketChannelImpl", "write"),
      f("io.netty.channel.socket.nio.NioSocketChannel", "doWrite"), f("io.vertx.core.net.impl.ConnectionBase", "write"));
  private static final List<StackTraceElement> LOADING_A_CLASS = stack(
      f("java.io.RandomAccessFile", "readBytes"), f("java.util.zip.ZipFile$Source", "readAt"),
      f("jdk.internal.loader.BuiltinClassLoader", "loadClass"), f("java.lang.ClassLoader", "loadClass"),
      f("dev.lattice.x.Handler", "handle"));
  private static final List<StackTraceElement> INITIALISING = stack(
      f("java.lang.Object", "wait"), f("io.fabric8.kubernetes.client.Config", "<clinit>"), f("dev.lattice.x.Handler", "handle"));

  private static final List<StackTraceElement> VERTX_INTERNAL_LOCK = stack(
      f("io.vertx.core.http.impl.HttpChannelConnector", "lambda$http1xConnected$1"),
      f("io.netty.channel.DefaultChannelPipeline", "addLast"), f("io.vertx.core.impl.future.Composition", "complete"));
  private static final List<StackTraceElement> KAFKA_SEND_WAITS_FOR_METADATA = stack(
      f("java.lang.Object", "wait"), f("org.apache.kafka.clients.producer.internals.ProducerMetadata", "awaitUpdate"),
      f("org.apache.kafka.clients.producer.KafkaProducer", "send"), f("dev.lattice.x.Handler", "handle"));

  static Stream<Arguments> samples() {
    return Stream.of(
        // name, state, stack, elapsed ms, expected kind (null: no violation)
        Arguments.of("parked on a future, past 100 ms", Thread.State.WAITING, PARKED, 150, BlockedEventLoop.Kind.BLOCKING),
        Arguments.of("parked on a future, within 100 ms", Thread.State.WAITING, PARKED, 90, null),
        Arguments.of("sleeping", Thread.State.TIMED_WAITING, SLEEPING, 101, BlockedEventLoop.Kind.BLOCKING),
        Arguments.of("waiting for a monitor", Thread.State.BLOCKED, COMPUTING, 200, BlockedEventLoop.Kind.BLOCKING),
        Arguments.of("fsync from our code", Thread.State.RUNNABLE, WRITING_A_FILE, 150, BlockedEventLoop.Kind.BLOCKING),
        Arguments.of("computing, loaded machine", Thread.State.RUNNABLE, COMPUTING, 1_900, null),
        Arguments.of("computing too long", Thread.State.RUNNABLE, COMPUTING, 2_100, BlockedEventLoop.Kind.BUSY),
        Arguments.of("Netty's non-blocking write", Thread.State.RUNNABLE, NETTY_WRITING, 500, null),
        Arguments.of("first use of a class reads a jar", Thread.State.RUNNABLE, LOADING_A_CLASS, 900, null),
        Arguments.of("static initialiser waits", Thread.State.WAITING, INITIALISING, 900, null),
        Arguments.of("static initialiser far too long", Thread.State.WAITING, INITIALISING, 2_500, BlockedEventLoop.Kind.BUSY),
        Arguments.of("a Vert.x-internal lock, loaded machine", Thread.State.BLOCKED, VERTX_INTERNAL_LOCK, 500, null),
        Arguments.of("a Vert.x-internal lock, far too long", Thread.State.BLOCKED, VERTX_INTERNAL_LOCK, 2_100, BlockedEventLoop.Kind.BUSY),
        Arguments.of("Kafka send waits for metadata", Thread.State.TIMED_WAITING, KAFKA_SEND_WAITS_FOR_METADATA, 150, BlockedEventLoop.Kind.BLOCKING),
        Arguments.of("empty stack, runnable", Thread.State.RUNNABLE, List.of(), 500, null));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("samples")
  void judgesASample(String name, Thread.State state, List<StackTraceElement> stack, long elapsedMs, BlockedEventLoop.Kind expected) {
    Optional<BlockedEventLoop> verdict = policy.judge("vert.x-eventloop-thread-0", Duration.ofMillis(elapsedMs), state, stack);
    if (expected == null) {
      assertThat(verdict).as(name).isEmpty();
    } else {
      assertThat(verdict).as(name).get().satisfies(b -> {
        assertThat(b.kind()).isEqualTo(expected);
        assertThat(b.limit()).isEqualTo(expected == BlockedEventLoop.Kind.BLOCKING ? Duration.ofMillis(100) : Duration.ofSeconds(2));
        assertThat(b.state()).isEqualTo(state);
        assertThat(b.stack()).isEqualTo(stack);
      });
    }
  }

  private static final List<StackTraceElement> WAITS_FOR_A_LOCK = stack(
      f("jdk.internal.misc.Unsafe", "park"), f("java.util.concurrent.locks.ReentrantLock", "lock"),
      f("dev.lattice.identity.attestation.JoinTokenStore", "pendingNodes"));

  @Test
  void aLockHeldByAComputingThreadIsContentionButOneHeldDuringIoIsBlocking() {
    EventLoopPolicy.ThreadSample loop = new EventLoopPolicy.ThreadSample(Thread.State.WAITING, WAITS_FOR_A_LOCK);
    EventLoopPolicy.ThreadSample computing = new EventLoopPolicy.ThreadSample(Thread.State.RUNNABLE, COMPUTING);
    EventLoopPolicy.ThreadSample syncing = new EventLoopPolicy.ThreadSample(Thread.State.RUNNABLE, WRITING_A_FILE);
    EventLoopPolicy.ThreadSample sleeping = new EventLoopPolicy.ThreadSample(Thread.State.TIMED_WAITING, SLEEPING);
    String t = "vert.x-eventloop-thread-0";

    assertThat(policy.judge(t, Duration.ofMillis(900), loop, computing)).isEmpty();
    assertThat(policy.judge(t, Duration.ofMillis(2_100), loop, computing)).get()
        .extracting(BlockedEventLoop::kind).isEqualTo(BlockedEventLoop.Kind.BUSY);
    assertThat(policy.judge(t, Duration.ofMillis(150), loop, syncing)).get()
        .extracting(BlockedEventLoop::kind).isEqualTo(BlockedEventLoop.Kind.BLOCKING);
    assertThat(policy.judge(t, Duration.ofMillis(150), loop, sleeping)).get()
        .extracting(BlockedEventLoop::kind).isEqualTo(BlockedEventLoop.Kind.BLOCKING);
    EventLoopPolicy.ThreadSample loadingAClass = new EventLoopPolicy.ThreadSample(Thread.State.BLOCKED, LOADING_A_CLASS);
    assertThat(policy.judge(t, Duration.ofMillis(900), loop, loadingAClass)).isEmpty();
    assertThat(policy.judge(t, Duration.ofMillis(150), loop, null)).get()
        .extracting(BlockedEventLoop::kind).isEqualTo(BlockedEventLoop.Kind.BLOCKING);
  }

  @Test
  void theDescriptionNamesTheThreadTheTimeAndTheFrames() {
    BlockedEventLoop b = policy.judge("vert.x-eventloop-thread-3", Duration.ofMillis(250), Thread.State.WAITING, PARKED).orElseThrow();
    assertThat(b.describe(2))
        .startsWith("vert.x-eventloop-thread-3 blocked for 250 ms (limit 100 ms for BLOCKING, state WAITING)")
        .contains("\tat jdk.internal.misc.Unsafe.park", "\tat java.util.concurrent.locks.LockSupport.park", "... 2 more")
        .doesNotContain("ResourceRoutes");
  }

  @Test
  void rejectsLimitsThatCannotWork() {
    assertThatThrownBy(() -> new EventLoopPolicy(Duration.ZERO, Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("blocking: PT0S (expected: > 0)");
    assertThatThrownBy(() -> new EventLoopPolicy(Duration.ofSeconds(1), Duration.ofMillis(10)))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("busy: PT0.01S (expected: >= blocking PT1S)");
  }
}
