package dev.lattice.identity.agent.svid;

import dev.lattice.identity.agent.authority.AgentEntry;
import dev.lattice.identity.agent.authority.SignedX509Svid;
import java.io.ByteArrayOutputStream;
import java.security.PrivateKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;

/**
 * An X.509-SVID the agent holds for one entry: the chain the server signed and the key made here.
 *
 * <p>Immutable; a rotation is a new instance. {@link #toString()} never shows the key.
 *
 * @param receivedAt when the agent got it; the half life counts from here when the certificate is
 *     backdated (a CA backdates {@code notBefore} to absorb clock skew, which would otherwise pull the
 *     half life of a short-lived SVID to "now")
 */
public record WorkloadX509Svid(AgentEntry entry, SignedX509Svid signed, PrivateKey key, Instant receivedAt) {

  public String spiffeId() {
    return signed.spiffeId();
  }

  public Instant notAfter() {
    return signed.notAfter();
  }

  /** Half life: from then on the agent asks for a new SVID, and keeps serving this one meanwhile. */
  public Instant rotateAt() {
    Instant from = receivedAt.isAfter(signed.notBefore()) ? receivedAt : signed.notBefore();
    return from.plus(Duration.between(from, signed.notAfter()).dividedBy(2));
  }

  public boolean expiredAt(Instant now) {
    return !now.isBefore(notAfter());
  }

  /** True when this SVID no longer fits {@code current} or has reached half life at {@code now}. */
  public boolean needsRenewal(AgentEntry current, Instant now) {
    return current.revision() != entry.revision()
        || !current.spiffeId().equals(entry.spiffeId())
        || !current.dnsNames().equals(entry.dnsNames())
        || !now.isBefore(rotateAt());
  }

  /** The chain as concatenated DER certificates, leaf first (the Workload API encoding). */
  public byte[] chainDer() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (X509Certificate c : signed.chain()) {
      try {
        out.writeBytes(c.getEncoded());
      } catch (CertificateEncodingException e) {
        throw new IllegalStateException("cannot encode the SVID of " + spiffeId(), e);
      }
    }
    return out.toByteArray();
  }

  /** The key as unencrypted PKCS#8 DER (the Workload API encoding). */
  public byte[] keyPkcs8() {
    return key.getEncoded();
  }

  @Override
  public String toString() {
    return "WorkloadX509Svid[" + spiffeId() + ", entry " + entry.id() + ", serial "
        + signed.leaf().getSerialNumber().toString(16) + ", until " + notAfter() + "]";
  }
}
