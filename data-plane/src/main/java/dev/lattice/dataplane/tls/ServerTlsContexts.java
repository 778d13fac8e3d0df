package dev.lattice.dataplane.tls;

import dev.lattice.events.config.ListenerTls;
import dev.lattice.events.config.ListenerTlsMode;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.File;
import java.nio.file.Files;
import java.util.List;
import javax.net.ssl.SSLException;

/**
 * Builds the server-side TLS context of a listener from its {@link ListenerTls}: the certificate chain
 * and key read from the node's files (they never travel in config), TLS 1.2 and 1.3 only, client
 * certificates required and verified for MUTUAL. Reads files: call it off the event loop. Stateless.
 */
public final class ServerTlsContexts {
  private static final List<String> SERVED_ALPN = List.of(ApplicationProtocolNames.HTTP_1_1);

  private ServerTlsContexts() {}

  /**
   * The context for {@code tls} on listener {@code listener}.
   *
   * @throws IllegalArgumentException naming the listener and the file or field at fault
   */
  public static SslContext build(String listener, ListenerTls tls, TlsEngine engine) {
    String where = "listener " + listener + ": tls";
    File cert = readable(where + ".serverCertificate", tls.getServerCertificate());
    File key = readable(where + ".privateKey", tls.getPrivateKey());
    SslContextBuilder b;
    try {
      b = SslContextBuilder.forServer(cert, key);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + ": cannot load the certificate/key pair (" + rootMessage(e) + ")", e);
    }
    b.sslProvider(engine.provider()).protocols("TLSv1.3", "TLSv1.2");
    if (tls.getMode() == ListenerTlsMode.MUTUAL) {
      if (tls.getCaCertificates() == null || tls.getCaCertificates().isBlank()) {
        throw new IllegalArgumentException(where + ".caCertificates: missing (expected: a PEM file of CA certificates for MUTUAL)");
      }
      b.trustManager(readable(where + ".caCertificates", tls.getCaCertificates())).clientAuth(ClientAuth.REQUIRE);
    }
    List<String> alpn = tls.getAlpnProtocols();
    if (!alpn.isEmpty()) {
      for (String p : alpn) {
        if (!SERVED_ALPN.contains(p)) {
          throw new IllegalArgumentException(where + ".alpnProtocols: '" + p + "' (expected: one of " + SERVED_ALPN + ")");
        }
      }
      b.applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
          ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
          ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, alpn));
    }
    try {
      return b.build();
    } catch (SSLException | RuntimeException e) {
      throw new IllegalArgumentException(where + ": cannot build the TLS context (" + rootMessage(e) + ")", e);
    }
  }

  private static File readable(String field, String path) {
    File f = new File(path);
    if (!Files.isReadable(f.toPath())) {
      throw new IllegalArgumentException(field + ": '" + path + "' is not a readable file");
    }
    return f;
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.toString() : t.getMessage();
  }
}
