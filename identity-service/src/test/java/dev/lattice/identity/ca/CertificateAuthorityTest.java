package dev.lattice.identity.ca;

import dev.lattice.testkit.time.MutableClock;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.lattice.identity.spiffe.SpiffeIds;
import dev.lattice.identity.spiffe.TrustDomains;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CertificateAuthorityTest {

  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  @TempDir Path dir;
  MutableClock clock;
  CertificateAuthority ca;
  CaKeyStore store;

  @BeforeEach
  void setUp() throws IOException {
    clock = new MutableClock(T0);
    store = CaKeyStore.open(dir.resolve("identity"), null);
    ca = CertificateAuthority.open(settings(), SignatureProvider.select(), store, clock);
  }

  CertificateAuthority.Settings settings() {
    return CertificateAuthority.Settings.defaults(TrustDomains.parse("lattice.local"));
  }

  IssuedX509Svid issue(String id, Duration ttl, List<String> dns) {
    KeyPair workload = CaKeys.newP256();
    return ca.issue(new X509SvidRequest(SpiffeIds.parseLeaf(id), workload.getPublic(), ttl, dns));
  }

  @Test
  void leafFollowsEveryX509SvidRule() throws Exception {
    IssuedX509Svid svid = issue("spiffe://lattice.local/ns/default/sa/web", Duration.ofHours(1), List.of("web.default.svc"));
    X509Certificate leaf = svid.leaf();
    // §2: exactly one URI SAN (DNS SANs allowed)
    List<String> uris = new ArrayList<>();
    List<String> dns = new ArrayList<>();
    for (List<?> san : leaf.getSubjectAlternativeNames()) {
      if ((Integer) san.get(0) == 6) uris.add((String) san.get(1));
      if ((Integer) san.get(0) == 2) dns.add((String) san.get(1));
    }
    assertThat(uris).containsExactly("spiffe://lattice.local/ns/default/sa/web");
    assertThat(dns).containsExactly("web.default.svc");
    // §4.1: cA=false, basic constraints critical
    assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
    assertThat(leaf.getCriticalExtensionOIDs()).contains(Extension.basicConstraints.getId(), Extension.keyUsage.getId());
    BasicConstraints bc = BasicConstraints.getInstance(ASN1OctetString.getInstance(
        leaf.getExtensionValue(Extension.basicConstraints.getId())).getOctets());
    assertThat(bc.isCA()).isFalse();
    // §4.3: digitalSignature only (EC key: no keyEncipherment), never keyCertSign/cRLSign
    boolean[] ku = leaf.getKeyUsage();
    assertThat(ku[0]).as("digitalSignature").isTrue();
    assertThat(ku[2]).as("keyEncipherment (EC key)").isFalse();
    assertThat(ku[5]).as("keyCertSign").isFalse();
    assertThat(ku[6]).as("cRLSign").isFalse();
    // §4.4: EKU serverAuth + clientAuth
    assertThat(leaf.getExtendedKeyUsage()).containsExactlyInAnyOrder("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
    // EC P-256, signed ECDSA-SHA256, 128-bit random serial, 1h TTL, backdated 10s
    assertThat(CaKeys.isP256(leaf.getPublicKey())).isTrue();
    assertThat(leaf.getSigAlgName()).isEqualTo("SHA256withECDSA");
    assertThat(leaf.getSerialNumber().bitLength()).isEqualTo(127);
    assertThat(issue("spiffe://lattice.local/a", Duration.ofHours(1), List.of()).leaf().getSerialNumber())
        .isNotEqualTo(leaf.getSerialNumber());
    assertThat(leaf.getNotBefore().toInstant()).isEqualTo(T0.minusSeconds(10).isBefore(ca.active().notBefore())
        ? ca.active().notBefore() : T0.minusSeconds(10));
    assertThat(leaf.getNotAfter().toInstant()).isEqualTo(T0.plus(Duration.ofHours(1)));
    // chain: leaf → intermediate (pathLen 0) → root (pathLen 1); both CAs keyCertSign, URI SAN without path
    X509Certificate intermediate = svid.chain().get(1);
    X509Certificate root = ca.active().root();
    leaf.verify(intermediate.getPublicKey());
    intermediate.verify(root.getPublicKey());
    assertThat(intermediate.getBasicConstraints()).isEqualTo(0);
    assertThat(root.getBasicConstraints()).isEqualTo(1);
    for (X509Certificate c : List.of(intermediate, root)) {
      assertThat(c.getKeyUsage()[5]).isTrue();
      assertThat(c.getKeyUsage()[0]).as("digitalSignature only on leaves").isFalse();
      assertThat(c.getSubjectAlternativeNames().stream().map(l -> (Object) l.get(1)).toList()).containsExactly((Object) "spiffe://lattice.local");
    }
    assertThat(svid.chain()).hasSize(2).doesNotContain(root);
  }

  @Test
  void leafNeverOutlivesItsCa() {
    clock.advance(Duration.ofDays(30).minusMinutes(5));
    IssuedX509Svid svid = issue("spiffe://lattice.local/short", Duration.ofHours(1), List.of());
    assertThat(svid.notAfter()).isEqualTo(ca.active().notAfter());
  }

  @Test
  void opensslVerifiesTheChain() throws Exception {
    assumeThat(Files.isExecutable(Path.of("/usr/bin/openssl")) || onPath("openssl"))
        .as("openssl binary is not installed; skipping openssl verify").isTrue();
    IssuedX509Svid svid = issue("spiffe://lattice.local/ns/default/sa/web", Duration.ofHours(1), List.of());
    // openssl verifies against the wall clock: use a CA opened on the real clock
    CertificateAuthority live = CertificateAuthority.open(settings(), SignatureProvider.select(),
        CaKeyStore.open(dir.resolve("live"), null), java.time.Clock.systemUTC());
    svid = live.issue(new X509SvidRequest(svid.spiffeId(), CaKeys.newP256().getPublic(), Duration.ofHours(1), List.of()));
    Path root = pem(dir.resolve("root.pem"), live.active().root());
    Path intermediate = pem(dir.resolve("intermediate.pem"), svid.chain().get(1));
    Path leaf = pem(dir.resolve("leaf.pem"), svid.leaf());
    Process p = new ProcessBuilder("openssl", "verify", "-x509_strict", "-purpose", "sslclient", "-CAfile", root.toString(),
        "-untrusted", intermediate.toString(), leaf.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(out).isZero();
    assertThat(out).contains(": OK");
  }

  @Test
  void rotatesWithOverlapAndPublishesEveryChange() {
    List<Long> sequences = new ArrayList<>();
    ca.onBundleChange(b -> sequences.add(b.sequence()));
    CaAuthority first = ca.active();
    assertThat(ca.rotateIfDue()).isFalse();

    clock.advance(Duration.ofDays(15)); // half life: prepare
    assertThat(ca.rotateIfDue()).isTrue();
    assertThat(ca.authorities()).extracting(CaAuthority::state)
        .containsExactly(AuthorityState.ACTIVE, AuthorityState.PREPARED);
    assertThat(ca.bundle().x509Authorities()).hasSize(2);
    assertThat(ca.active().id()).isEqualTo(first.id()); // prepared does not sign yet

    clock.advance(Duration.ofDays(10)); // 5/6: activate, retire the old one
    assertThat(ca.rotateIfDue()).isTrue();
    assertThat(ca.authorities()).extracting(CaAuthority::state)
        .containsExactly(AuthorityState.RETIRED, AuthorityState.ACTIVE);
    assertThat(ca.active().id()).isNotEqualTo(first.id());
    IssuedX509Svid svid = issue("spiffe://lattice.local/after", Duration.ofHours(1), List.of());
    assertThat(svid.authorityId()).isEqualTo(ca.active().id());
    assertThat(ca.bundle().x509Authorities()).contains(first.root()); // old SVIDs still verify

    clock.advance(Duration.ofDays(5).plusSeconds(1)); // old generation expired: dropped from the bundle
    assertThat(ca.rotateIfDue()).isTrue();
    assertThat(ca.bundle().x509Authorities()).doesNotContain(first.root());
    assertThat(sequences).containsExactly(2L, 3L, 4L);
  }

  @Test
  void reopensFromTheKeystoreWithTheSameRootAndSequence() throws IOException {
    ca.prepare();
    long sequence = ca.bundle().sequence();
    CertificateAuthority again = CertificateAuthority.open(settings(), SignatureProvider.jdk(),
        CaKeyStore.open(dir.resolve("identity"), null), clock);
    assertThat(again.bundle().x509Authorities()).isEqualTo(ca.bundle().x509Authorities());
    assertThat(again.bundle().sequence()).isEqualTo(sequence);
    assertThat(again.bundle().jwtAuthorities()).extracting(a -> a.kid())
        .isEqualTo(ca.bundle().jwtAuthorities().stream().map(a -> a.kid()).toList());
    IssuedX509Svid svid = again.issue(new X509SvidRequest(SpiffeIds.parseLeaf("spiffe://lattice.local/x"),
        CaKeys.newP256().getPublic(), Duration.ofMinutes(5), List.of()));
    assertThat(svid.chain().get(1)).isEqualTo(ca.active().intermediate());
  }

  @Test
  void keystoreFilesAreOwnerOnly() throws IOException {
    for (String f : List.of("ca.p12", "ca-state.json", "keystore.pass")) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("identity").resolve(f))))
          .as(f).isEqualTo("rw-------");
    }
  }

  @Test
  void upstreamAuthoritySignsTheIntermediate() throws IOException {
    CertificateAuthority upstreamCa = CertificateAuthority.open(
        CertificateAuthority.Settings.defaults(TrustDomains.parse("upstream.example")), SignatureProvider.jdk(),
        CaKeyStore.open(dir.resolve("up"), null), clock);
    CaAuthority up = upstreamCa.active();
    UpstreamAuthority upstream = new UpstreamAuthority(up.intermediateKey(), List.of(up.intermediate(), up.root()));
    CertificateAuthority.Settings s = settings();
    CertificateAuthority downstream = CertificateAuthority.open(new CertificateAuthority.Settings(s.trustDomain(),
        s.caTtl(), s.backdate(), s.refreshHint(), java.util.Optional.of(upstream)), SignatureProvider.select(),
        CaKeyStore.open(dir.resolve("down"), null), clock);
    assertThat(downstream.bundle().x509Authorities()).containsExactly(up.root());
    IssuedX509Svid svid = downstream.issue(new X509SvidRequest(SpiffeIds.parseLeaf("spiffe://lattice.local/w"),
        CaKeys.newP256().getPublic(), Duration.ofHours(1), List.of()));
    assertThat(svid.chain()).hasSize(3);
    assertThat(svid.chain().get(2)).isEqualTo(up.intermediate());
  }

  static boolean onPath(String exe) {
    for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (Files.isExecutable(Path.of(d, exe))) return true;
    }
    return false;
  }

  static Path pem(Path file, X509Certificate cert) throws Exception {
    String b64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(cert.getEncoded());
    Files.writeString(file, "-----BEGIN CERTIFICATE-----\n" + b64 + "\n-----END CERTIFICATE-----\n");
    return file;
  }
}
