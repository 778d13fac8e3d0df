package dev.lattice.identity.bench;

import dev.lattice.identity.ca.CaKeyStore;
import dev.lattice.identity.ca.CaKeys;
import dev.lattice.identity.ca.CertificateAuthority;
import dev.lattice.identity.ca.CertificateRequests;
import dev.lattice.identity.ca.SignatureProvider;
import dev.lattice.identity.ca.X509SvidRequest;
import dev.lattice.identity.spiffe.SpiffeIds;
import dev.lattice.identity.spiffe.TrustDomains;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.Signature;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * Load harness (not a unit test, not in CI): CSR → X.509-SVID throughput of the CA's hot path — parse
 * and verify the CSR, check the key, build and sign the certificate — with N threads for a fixed time,
 * after a warm-up, plus the provider's raw ECDSA P-256 sign and verify rates (a fresh {@code Signature}
 * per operation, as the CA used to do). Prints one line of
 * {@code key=value} pairs. Usage: {@code SigningBenchmark <jdk|conscrypt> <threads> <seconds>}.
 */
public final class SigningBenchmark {

  public static void main(String[] args) throws Exception {
    String providerName = args.length > 0 ? args[0] : "conscrypt";
    int threads = args.length > 1 ? Integer.parseInt(args[1]) : 2;
    int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 10;
    SignatureProvider provider = SignatureProvider.select(providerName);
    Path dir = Files.createTempDirectory("lattice-bench");
    CertificateAuthority ca = CertificateAuthority.open(CertificateAuthority.Settings.defaults(TrustDomains.parse("lattice.local")),
        provider, CaKeyStore.open(dir, null), Clock.systemUTC());

    // the workloads' CSRs are made up front: a restart storm's agents would have made them already
    List<byte[]> csrs = new ArrayList<>();
    for (int i = 0; i < 512; i++) {
      KeyPair k = CaKeys.newP256();
      csrs.add(new JcaPKCS10CertificationRequestBuilder(new X500Name("O=bench"), k.getPublic())
          .build(new JcaContentSignerBuilder("SHA256withECDSA").build(k.getPrivate())).getEncoded());
    }
    var id = SpiffeIds.parseLeaf("spiffe://lattice.local/ns/bench/sa/workload");

    double svids = measure(threads, seconds, () -> new Runnable() {
      int i;
      @Override
      public void run() {
        CertificateRequests.CheckedCsr csr = CertificateRequests.parse(csrs.get(i++ & 511), provider);
        ca.issue(new X509SvidRequest(id, csr.publicKey(), Duration.ofHours(1), List.of()));
      }
    });
    List<java.security.PublicKey> keys = new ArrayList<>();
    for (byte[] c : csrs) {
      keys.add(CertificateRequests.parse(c, provider).publicKey());
    }
    double issueOnly = measure(threads, seconds, () -> new Runnable() {
      int i;
      @Override
      public void run() {
        ca.issue(new X509SvidRequest(id, keys.get(i++ & 511), Duration.ofHours(1), List.of()));
      }
    });
    KeyPair signKey = CaKeys.newP256();
    byte[] tbs = new byte[400];
    double signs = measure(threads, seconds, () -> () -> {
      try {
        Signature s = provider.signer(signKey.getPrivate());
        s.update(tbs);
        s.sign();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    Signature tbsSigner = provider.signer(signKey.getPrivate());
    tbsSigner.update(tbs);
    byte[] tbsSignature = tbsSigner.sign();
    java.security.PublicKey verifyKey = provider.provider() == null ? signKey.getPublic()
        : java.security.KeyFactory.getInstance("EC", provider.provider()).generatePublic(
            new java.security.spec.X509EncodedKeySpec(signKey.getPublic().getEncoded())); // native key, as a CSR's
    double verifies = measure(threads, seconds, () -> () -> {
      try {
        Signature s = provider.signature();
        s.initVerify(verifyKey);
        s.update(tbs);
        if (!s.verify(tbsSignature)) {
          throw new IllegalStateException("signature does not verify");
        }
      } catch (java.security.GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
    });
    System.out.printf("RESULT provider=%s threads=%d seconds=%d svids_per_s=%.0f issue_only_per_s=%.0f raw_signs_per_s=%.0f"
        + " raw_verifies_per_s=%.0f%n", provider.name(), threads, seconds, svids, issueOnly, signs, verifies);
  }

  interface Task {
    Runnable newWorker();
  }

  static double measure(int threads, int seconds, Task task) throws InterruptedException {
    run(threads, Math.max(3, seconds / 2), task); // warm-up (JIT)
    return run(threads, seconds, task);
  }

  static double run(int threads, int seconds, Task task) throws InterruptedException {
    LongAdder done = new LongAdder();
    AtomicBoolean stop = new AtomicBoolean();
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Runnable r = task.newWorker();
      Thread th = new Thread(() -> {
        while (!stop.get()) {
          r.run();
          done.increment();
        }
      });
      workers.add(th);
    }
    long start = System.nanoTime();
    workers.forEach(Thread::start);
    Thread.sleep(seconds * 1000L);
    stop.set(true);
    for (Thread th : workers) {
      th.join();
    }
    return done.sum() / ((System.nanoTime() - start) / 1e9);
  }
}
