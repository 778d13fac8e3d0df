package dev.lattice.dataplane.proxy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A blocking HTTP/1.1 client over a plain socket, byte-exact on the wire: writes what the test says
 * (including malformed requests) and parses responses (Content-Length, chunked, or close-delimited).
 * Reads time out after 10 s so a broken proxy fails the test instead of hanging it. Test thread only.
 */
final class RawHttpClient implements AutoCloseable {
  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  record Response(int status, Map<String, List<String>> headers, String body) {
    String header(String name) {
      List<String> v = headers.get(name.toLowerCase(Locale.ROOT));
      return v == null ? null : String.join(",", v);
    }
  }

  RawHttpClient(InetSocketAddress address) throws IOException {
    this(connect(address));
  }

  private RawHttpClient(Socket connected) throws IOException {
    socket = connected;
    socket.setSoTimeout(10_000);
    in = socket.getInputStream();
    out = socket.getOutputStream();
  }

  /** A plaintext client whose connection comes from {@code source} (any 127.x address on loopback). */
  static RawHttpClient from(java.net.InetAddress source, InetSocketAddress address) throws IOException {
    return new RawHttpClient(connect(source, address));
  }

  /** A client over TLS from {@code tls}, handshake done (fails if the proxy refuses it). */
  static RawHttpClient tls(InetSocketAddress address, javax.net.ssl.SSLContext tls) throws IOException {
    return tls(null, address, tls);
  }

  /** As {@link #tls(InetSocketAddress, javax.net.ssl.SSLContext)}, connecting from {@code source} (null: any). */
  static RawHttpClient tls(java.net.InetAddress source, InetSocketAddress address, javax.net.ssl.SSLContext tls) throws IOException {
    Socket plain = connect(source, address);
    javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) tls.getSocketFactory()
        .createSocket(plain, "localhost", address.getPort(), true);
    s.setSoTimeout(10_000);
    s.startHandshake();
    return new RawHttpClient(s);
  }

  private static Socket connect(InetSocketAddress address) throws IOException {
    return connect(null, address);
  }

  private static Socket connect(java.net.InetAddress source, InetSocketAddress address) throws IOException {
    Socket s = new Socket();
    if (source != null) {
      s.bind(new InetSocketAddress(source, 0));
    }
    s.connect(address, 5000);
    return s;
  }

  /** The connection's socket (an {@code SSLSocket} for {@link #tls}). */
  Socket socket() {
    return socket;
  }

  RawHttpClient send(String raw) throws IOException {
    out.write(raw.getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
    return this;
  }

  Response get(String path, String host) throws IOException {
    send("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
    return read();
  }

  Response read() throws IOException {
    return read(false);
  }

  /** Reads one response; {@code head} when it answers a HEAD request (no body whatever the headers say). */
  Response read(boolean head) throws IOException {
    String status = line();
    if (status == null) {
      throw new IOException("connection closed before a response");
    }
    String[] parts = status.split(" ", 3);
    int code = Integer.parseInt(parts[1]);
    Map<String, List<String>> headers = new LinkedHashMap<>();
    String l;
    while ((l = line()) != null && !l.isEmpty()) {
      int colon = l.indexOf(':');
      headers.computeIfAbsent(l.substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>()).add(l.substring(colon + 1).trim());
    }
    Response r = new Response(code, headers, "");
    if (head || code == 204 || code == 304 || code < 200) {
      return r;
    }
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    if (r.header("content-length") != null) {
      int n = Integer.parseInt(r.header("content-length"));
      body.write(in.readNBytes(n));
    } else if ("chunked".equalsIgnoreCase(r.header("transfer-encoding"))) {
      while (true) {
        int size = Integer.parseInt(line().split(";")[0].trim(), 16);
        if (size == 0) {
          while (!line().isEmpty()) { } // trailers
          break;
        }
        body.write(in.readNBytes(size));
        line();
      }
    } else {
      body.write(in.readAllBytes());
    }
    return new Response(code, headers, body.toString(StandardCharsets.UTF_8));
  }

  /** True when the peer closed the connection (EOF within the read timeout). */
  boolean closedByPeer() throws IOException {
    try {
      return in.read() == -1;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true; // reset
    }
  }

  void readTimeout(int millis) throws IOException {
    socket.setSoTimeout(millis);
  }

  private String line() throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) != -1) {
      if (c == '\n') {
        String s = b.toString(StandardCharsets.ISO_8859_1);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
      }
      b.write(c);
    }
    return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
