package dev.lattice.dataplane.tls;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;
import java.util.Locale;

/**
 * Which TLS implementation terminates connections: BoringSSL through netty-tcnative (measured faster,
 * with a far better p99, than the JDK's engine on this kind of machine) or the JDK's own. {@code AUTO}
 * takes BoringSSL when its native library loads on this platform, else the JDK.
 */
public enum TlsEngine {
  AUTO, OPENSSL, JDK;

  /** Parses {@code auto}, {@code openssl} or {@code jdk} (any case). */
  public static TlsEngine parse(String text) {
    try {
      return valueOf(text.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("tlsEngine: '" + text + "' (expected: auto, openssl or jdk)");
    }
  }

  /** The Netty provider this choice resolves to here; OPENSSL fails when BoringSSL cannot load. */
  public SslProvider provider() {
    return switch (this) {
      case JDK -> SslProvider.JDK;
      case OPENSSL -> {
        if (!OpenSsl.isAvailable()) {
          throw new IllegalStateException("tlsEngine openssl: BoringSSL is not available here ("
              + OpenSsl.unavailabilityCause() + "); use auto or jdk");
        }
        yield SslProvider.OPENSSL;
      }
      case AUTO -> OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
    };
  }
}
