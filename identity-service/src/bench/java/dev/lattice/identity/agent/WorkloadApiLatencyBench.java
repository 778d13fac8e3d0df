package dev.lattice.identity.agent;

import dev.lattice.identity.agent.attestor.ProcessTable;
import dev.lattice.identity.agent.attestor.Selector;
import dev.lattice.identity.agent.attestor.UnixWorkloadAttestor;
import dev.lattice.identity.agent.authority.NodeAttestationMaterial;
import dev.lattice.identity.agent.svid.AttestationSource;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.stub.StreamObserver;
import io.spiffe.workloadapi.DefaultWorkloadApiClient;
import io.spiffe.workloadapi.WorkloadApiClient;
import io.spiffe.workloadapi.grpc.SpiffeWorkloadAPIGrpc;
import io.spiffe.workloadapi.grpc.Workload;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Workload API latency, measured with java-spiffe's client (grpc-java over a Unix socket):
 * FetchX509SVID (open the stream, first response, cancel) and FetchJWTSVID (cached audience, and a new
 * audience per call, which mints), sequential and with concurrent clients.
 *
 * <p>Peer in the same run: a bare grpc-java server (Netty epoll, UDS) that answers with fixed
 * responses — the floor the transport and client allow, with no attestation or lookup.
 *
 * <p>Not a test and not run in CI; see {@code src/bench/run-workload-api-bench.sh}.
 */
public final class WorkloadApiLatencyBench {

  private static final int WARMUP = Integer.getInteger("bench.warmup", 2000);
  private static final int SEQUENTIAL = Integer.getInteger("bench.calls", 5000);
  private static final int CLIENTS = Integer.getInteger("bench.clients", 8);
  private static final int PER_CLIENT = Integer.getInteger("bench.perClient", 1000);

  /** Held: JUL keeps loggers weakly, a level set on a dropped logger is lost. */
  private static final java.util.logging.Logger SPIFFE_LOG = java.util.logging.Logger.getLogger("io.spiffe");

  private WorkloadApiLatencyBench() {}

  public static void main(String[] args) throws Exception {
    SPIFFE_LOG.setLevel(java.util.logging.Level.WARNING);
    Path dir = Files.createTempDirectory(Path.of("/tmp"), "lattice-bench-");
    Vertx vertx = AgentFixtures.epollVertx();
    CaBackedSvidAuthority authority = new CaBackedSvidAuthority(vertx, dir.resolve("ca"),
        AgentFixtures.TRUST_DOMAIN, Clock.systemUTC(), Duration.ofHours(1));
    authority.addJoinToken("bench");
    authority.putEntry(AgentFixtures.entry("web", "/ns/default/sa/web",
        Set.of(Selector.unixUid(AgentFixtures.myUid())), 3600));
    Path agentSocket = dir.resolve("agent.sock");
    NodeAgent agent = new NodeAgent(vertx, authority,
        AttestationSource.fixed(new NodeAttestationMaterial(NodeAttestationMaterial.Kind.JOIN_TOKEN, "bench")),
        List.of(new UnixWorkloadAttestor()), ProcessTable.system(), Clock.systemUTC(),
        NodeAgent.Settings.defaults(agentSocket));
    agent.start().toCompletionStage().toCompletableFuture().get();
    while (agent.svids().state().svids().isEmpty()) {
      Thread.sleep(50);
    }

    // the peer answers what the agent answered, from memory
    Workload.X509SVIDResponse x509;
    Workload.JWTSVIDResponse jwt;
    try (WorkloadApiClient c = client(agentSocket)) {
      var ctx = c.fetchX509Context();
      x509 = Workload.X509SVIDResponse.newBuilder().addSvids(Workload.X509SVID.newBuilder()
          .setSpiffeId(ctx.getDefaultSvid().getSpiffeId().toString())
          .setX509Svid(com.google.protobuf.ByteString.copyFrom(concat(ctx.getDefaultSvid().getChainArray())))
          .setX509SvidKey(com.google.protobuf.ByteString.copyFrom(ctx.getDefaultSvid().getPrivateKey().getEncoded()))
          .setBundle(com.google.protobuf.ByteString.copyFrom(concat(ctx.getX509BundleSet().getBundles().values()
              .iterator().next().getX509Authorities().toArray(new java.security.cert.X509Certificate[0])))))
          .build();
      var token = c.fetchJwtSvid("bench");
      jwt = Workload.JWTSVIDResponse.newBuilder().addSvids(Workload.JWTSVID.newBuilder()
          .setSpiffeId(token.getSpiffeId().toString()).setSvid(token.getToken())).build();
    }
    Path peerSocket = dir.resolve("peer.sock");
    EpollEventLoopGroup group = new EpollEventLoopGroup(1);
    Server peer = NettyServerBuilder.forAddress(new DomainSocketAddress(peerSocket.toString()))
        .channelType(EpollServerDomainSocketChannel.class).bossEventLoopGroup(group).workerEventLoopGroup(group)
        .addService(new SpiffeWorkloadAPIGrpc.SpiffeWorkloadAPIImplBase() {
          @Override
          public void fetchX509SVID(Workload.X509SVIDRequest request,
              StreamObserver<Workload.X509SVIDResponse> out) {
            out.onNext(x509);
          }

          @Override
          public void fetchJWTSVID(Workload.JWTSVIDRequest request, StreamObserver<Workload.JWTSVIDResponse> out) {
            out.onNext(jwt);
            out.onCompleted();
          }
        })
        .build().start();

    System.out.printf(Locale.ROOT, "machine: %d cpus (%s), %s %s%n", Runtime.getRuntime().availableProcessors(),
        System.getProperty("os.arch"), System.getProperty("java.vm.name"), System.getProperty("java.version"));
    System.out.printf(Locale.ROOT, "warmup %d, sequential %d calls, concurrent %d clients x %d calls%n",
        WARMUP, SEQUENTIAL, CLIENTS, PER_CLIENT);
    System.out.printf(Locale.ROOT, "%-44s %10s %10s %10s %10s%n", "case", "p50 us", "p99 us", "max us", "calls/s");
    AtomicLong unique = new AtomicLong();
    for (int round = 1; round <= 2; round++) {
      for (Path socket : List.of(agentSocket, peerSocket)) {
        String who = socket.equals(agentSocket) ? "lattice agent" : "grpc-java static peer";
        run(who + " FetchX509SVID first msg", socket, c -> c.fetchX509Context());
        run(who + " FetchJWTSVID cached aud", socket, c -> c.fetchJwtSvid("bench"));
        if (socket.equals(agentSocket)) {
          run(who + " FetchJWTSVID new aud (mint)", socket, c -> c.fetchJwtSvid("aud-" + unique.incrementAndGet()));
        }
      }
      System.out.println("-- end of round " + round);
    }
    peer.shutdownNow();
    group.shutdownGracefully();
    agent.stop().toCompletionStage().toCompletableFuture().get();
    vertx.close().toCompletionStage().toCompletableFuture().get();
    System.exit(0);
  }

  interface Call {
    Object invoke(WorkloadApiClient client) throws Exception;
  }

  private static WorkloadApiClient client(Path socket) throws Exception {
    return DefaultWorkloadApiClient.newClient(DefaultWorkloadApiClient.ClientOptions.builder()
        .spiffeSocketPath("unix:" + socket).build());
  }

  private static void run(String name, Path socket, Call call) throws Exception {
    try (WorkloadApiClient c = client(socket)) {
      for (int i = 0; i < WARMUP; i++) {
        call.invoke(c);
      }
      long[] lat = new long[SEQUENTIAL];
      long start = System.nanoTime();
      for (int i = 0; i < SEQUENTIAL; i++) {
        long t = System.nanoTime();
        call.invoke(c);
        lat[i] = System.nanoTime() - t;
      }
      report(name + " seq", lat, System.nanoTime() - start);
    }
    ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
    List<WorkloadApiClient> clients = new ArrayList<>();
    for (int i = 0; i < CLIENTS; i++) {
      clients.add(client(socket));
    }
    for (WorkloadApiClient c : clients) {
      for (int i = 0; i < WARMUP / CLIENTS; i++) {
        call.invoke(c);
      }
    }
    long[] lat = new long[CLIENTS * PER_CLIENT];
    List<Future<?>> done = new ArrayList<>();
    long start = System.nanoTime();
    for (int k = 0; k < CLIENTS; k++) {
      int offset = k * PER_CLIENT;
      WorkloadApiClient c = clients.get(k);
      done.add(pool.submit((Callable<Void>) () -> {
        for (int i = 0; i < PER_CLIENT; i++) {
          long t = System.nanoTime();
          call.invoke(c);
          lat[offset + i] = System.nanoTime() - t;
        }
        return null;
      }));
    }
    for (Future<?> f : done) {
      f.get();
    }
    report(name + " x" + CLIENTS, lat, System.nanoTime() - start);
    for (WorkloadApiClient c : clients) {
      c.close();
    }
    pool.shutdown();
  }

  private static void report(String name, long[] nanos, long elapsed) {
    long[] sorted = nanos.clone();
    Arrays.sort(sorted);
    System.out.printf(Locale.ROOT, "%-44s %10.0f %10.0f %10.0f %10.0f%n", name,
        sorted[sorted.length / 2] / 1e3, sorted[(int) (sorted.length * 0.99)] / 1e3,
        sorted[sorted.length - 1] / 1e3, nanos.length / (elapsed / 1e9));
  }

  private static byte[] concat(java.security.cert.X509Certificate[] certs) throws Exception {
    var out = new java.io.ByteArrayOutputStream();
    for (var c : certs) {
      out.write(c.getEncoded());
    }
    return out.toByteArray();
  }
}
