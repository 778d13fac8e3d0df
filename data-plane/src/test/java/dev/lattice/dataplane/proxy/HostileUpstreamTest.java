package dev.lattice.dataplane.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A workload that answers with broken framing, on real sockets: what it sends past a response never reaches
 * another client of the pooled upstream connection (response splitting across callers), framing it cannot
 * mean is 502 {@code UPE}, and the proxy keeps serving. The backend answers each connection's first request
 * with the hostile bytes and later ones with {@code good}.
 */
class HostileUpstreamTest {
  private final ProxyFixture fx = new ProxyFixture();
  private ServerSocket backend;
  private final AtomicInteger connections = new AtomicInteger();
  private final List<Socket> accepted = new ArrayList<>();

  @AfterEach
  void tearDown() throws Exception {
    fx.close();
    if (backend != null) {
      backend.close();
    }
    synchronized (accepted) {
      for (Socket s : accepted) {
        s.close();
      }
    }
  }

  private void start(String firstAnswer) throws Exception {
    backend = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(() -> {
      try {
        while (true) {
          Socket s = backend.accept();
          synchronized (accepted) {
            accepted.add(s);
          }
          connections.incrementAndGet();
          Thread t = new Thread(() -> serve(s, firstAnswer), "hostile-upstream");
          t.setDaemon(true);
          t.start();
        }
      } catch (IOException e) {
        // closed by the test
      }
    }, "hostile-upstream-acceptor");
    acceptor.setDaemon(true);
    acceptor.start();
    fx.start(ProxyFixture.singleRoute(backend.getLocalPort(), ""));
  }

  private static void serve(Socket s, String firstAnswer) {
    try (s) {
      InputStream in = s.getInputStream();
      OutputStream out = s.getOutputStream();
      for (int n = 0; ; n++) {
        if (!readHead(in)) {
          return;
        }
        String answer = n == 0 ? firstAnswer : "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ngood";
        out.write(answer.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
      }
    } catch (IOException e) {
      // the proxy closed it
    }
  }

  /** Reads one request head (the proxy sends bodiless GETs here); false at EOF. */
  private static boolean readHead(InputStream in) throws IOException {
    int matched = 0;
    int c;
    while ((c = in.read()) != -1) {
      matched = (c == "\r\n\r\n".charAt(matched)) ? matched + 1 : (c == '\r' ? 1 : 0);
      if (matched == 4) {
        return true;
      }
    }
    return false;
  }

  /** {@code n} requests, each on a new client connection, one after the other: they share the pooled upstream. */
  private List<String> answers(int n) throws Exception {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
        RawHttpClient.Response r = c.get("/r" + i, "echo.default");
        out.add(r.status() + " " + r.body());
      }
    }
    return out;
  }

  @Test
  void aResponseSmuggledBehindAnotherNeverReachesTheNextClient() throws Exception {
    start("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" + "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nEVIL!!");
    List<String> got = answers(4);
    assertThat(got).allMatch(a -> a.equals("200 ok") || a.equals("200 good")).noneMatch(a -> a.contains("EVIL"));
    assertThat(got.get(0)).isEqualTo("200 ok");
  }

  @Test
  void twoContentLengthsAre502AndTheProxyStaysUp() throws Exception {
    start("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok");
    assertThat(answers(2)).containsOnly("502 upstream protocol error");
    assertThat(fx.nextCompleted().flags()).isEqualTo("UPE");
  }

  @Test
  void aResponseConnectionOptionNamingContentLengthKeepsTheBodyFramed() throws Exception {
    start("HTTP/1.1 200 OK\r\nConnection: content-length\r\nContent-Length: 2\r\n\r\nok");
    // each answer intact, and the pooled connections still in step for the next clients (one pool per event loop)
    assertThat(answers(4)).allMatch(a -> a.equals("200 ok") || a.equals("200 good")).contains("200 good");
    assertThat(connections.get()).isLessThanOrEqualTo(2);
  }
}
