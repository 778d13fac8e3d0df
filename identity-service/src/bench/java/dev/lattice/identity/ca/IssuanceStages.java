package dev.lattice.identity.ca;

import dev.lattice.identity.spiffe.SpiffeIds;
import dev.lattice.identity.spiffe.TrustDomains;
import io.spiffe.spiffeid.SpiffeId;
import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * Load harness (not a unit test, not in CI): the cost of each stage of CSR → X.509-SVID on one thread,
 * in microseconds per SVID — CSR parse + proof-of-possession verify, TBS encode (template vs
 * BouncyCastle builder), sign, parse into an {@code X509Certificate}. Prints one {@code STAGES} line.
 * Usage: {@code IssuanceStages <jdk|conscrypt> <seconds per stage>}.
 */
public final class IssuanceStages {

  public static void main(String[] args) throws Exception {
    SignatureProvider provider = SignatureProvider.select(args.length > 0 ? args[0] : "conscrypt");
    double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 2;
    CaAuthority ca = CertificateAuthority.open(CertificateAuthority.Settings.defaults(TrustDomains.parse("lattice.local")),
        provider, CaKeyStore.open(Files.createTempDirectory("lattice-stages"), null), Clock.systemUTC()).active();
    LeafCertificateEncoder encoder = LeafCertificateEncoder.of(ca.intermediate(), ca.intermediateKey(), provider);
    SpiffeId id = SpiffeIds.parseLeaf("spiffe://lattice.local/ns/bench/sa/workload");
    List<byte[]> csrs = new ArrayList<>();
    List<PublicKey> keys = new ArrayList<>();
    for (int i = 0; i < 256; i++) {
      KeyPair k = CaKeys.newP256();
      csrs.add(new JcaPKCS10CertificationRequestBuilder(new X500Name("O=bench"), k.getPublic())
          .build(new JcaContentSignerBuilder("SHA256withECDSA").build(k.getPrivate())).getEncoded());
      keys.add(CertificateRequests.parse(csrs.get(i), provider).publicKey());
    }
    Instant now = Instant.now();
    Instant later = now.plusSeconds(3600);
    BigInteger serial = LeafCertificateEncoder.serial();
    byte[] tbs = encoder.tbs(serial, id, keys.get(0), List.of(), now, later);
    byte[] cert = encoder.sign(tbs);
    CertificateFactory jdkFactory = CertificateFactory.getInstance("X.509");
    Signature verify = provider.signature();
    byte[] csrInfo = new byte[300];
    Signature signer = provider.signer(ca.intermediateKey());
    byte[] csrSig = signer.sign();

    StringBuilder out = new StringBuilder("STAGES provider=" + provider.name());
    stage(out, "csr_parse_verify_us", seconds, i -> CertificateRequests.parse(csrs.get(i & 255), provider));
    stage(out, "csr_bouncycastle_path_us", seconds, i -> CertificateRequests.parseWithBouncyCastle(csrs.get(i & 255), provider));
    stage(out, "raw_verify_us", seconds, i -> {
      try {
        verify.initVerify(ca.intermediate().getPublicKey());
        verify.update(csrInfo);
        verify.verify(csrSig);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    stage(out, "tbs_template_us", seconds, i -> encoder.tbs(LeafCertificateEncoder.serial(), id, keys.get(i & 255), List.of(), now, later));
    stage(out, "serial_us", seconds, i -> LeafCertificateEncoder.serial());
    stage(out, "key_encoded_us", seconds, i -> keys.get(i & 255).getEncoded());
    stage(out, "sign_us", seconds, i -> encoder.sign(tbs));
    List<byte[]> certs = new ArrayList<>(); // more distinct certificates than the JDK factory's cache holds
    for (int i = 0; i < 2048; i++) {
      certs.add(encoder.sign(encoder.tbs(LeafCertificateEncoder.serial(), id, keys.get(i & 255), List.of(), now, later)));
    }
    stage(out, "parse_jdk_us", seconds, i -> {
      try {
        jdkFactory.generateCertificate(new ByteArrayInputStream(certs.get(i & 2047)));
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    if (provider.provider() != null) {
      CertificateFactory nativeFactory = CertificateFactory.getInstance("X.509", provider.provider());
      stage(out, "parse_native_us", seconds, i -> {
        try {
          nativeFactory.generateCertificate(new ByteArrayInputStream(certs.get(i & 2047)));
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
    }
    stage(out, "issue_template_us", seconds, i -> encoder.leaf(id, keys.get(i & 255), List.of(), now, later));
    stage(out, "issue_builder_us", seconds, i -> SvidCertificates.leaf(id, keys.get(i & 255), List.of(), now, later,
        ca.intermediate(), ca.intermediateKey(), provider));
    System.out.println(out);
  }

  static void stage(StringBuilder out, String name, double seconds, IntConsumer op) {
    run(op, seconds / 2); // warm-up (JIT)
    out.append(' ').append(name).append('=').append(String.format("%.1f", run(op, seconds)));
  }

  static double run(IntConsumer op, double seconds) {
    long end = System.nanoTime() + (long) (seconds * 1e9);
    long start = System.nanoTime();
    int n = 0;
    while (System.nanoTime() < end) {
      for (int k = 0; k < 64; k++) {
        op.accept(n++);
      }
    }
    return (System.nanoTime() - start) / 1e3 / n;
  }
}
