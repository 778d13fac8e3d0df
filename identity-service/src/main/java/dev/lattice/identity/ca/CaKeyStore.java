package dev.lattice.identity.ca;

import dev.lattice.kit.files.AtomicFiles;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;

/**
 * The CA's private keys on local disk: a PKCS#12 keystore ({@code ca.p12}) plus a small JSON state file
 * ({@code ca-state.json}: generation ids, states, JWT key ids, bundle sequence) in
 * {@code identity.data.dir}. Files are written atomically with permissions 600; the keystore password is
 * a random secret in {@code keystore.pass} (600) unless one is configured. Keys never leave this
 * directory. Not thread-safe: the {@link CertificateAuthority} serializes access.
 */
public final class CaKeyStore {

  private static final Set<PosixFilePermission> OWNER_DIR = PosixFilePermissions.fromString("rwx------");

  private final Path dir;
  private final char[] password;

  private CaKeyStore(Path dir, char[] password) {
    this.dir = dir;
    this.password = password;
  }

  /** The persisted CA: its generations and the last bundle sequence. */
  public record Stored(List<CaAuthority> authorities, long sequence) {}

  /** Opens (creating if needed) the store in {@code dir}; {@code password} null = generated secret file. */
  public static CaKeyStore open(Path dir, String password) throws IOException {
    Files.createDirectories(dir);
    try {
      Files.setPosixFilePermissions(dir, OWNER_DIR);
    } catch (UnsupportedOperationException ignored) {
      // non-POSIX file system: nothing to tighten
    }
    if (password != null && !password.isEmpty()) {
      return new CaKeyStore(dir, password.toCharArray());
    }
    Path secret = dir.resolve("keystore.pass");
    if (!Files.exists(secret)) {
      byte[] random = new byte[24];
      CaKeys.random().nextBytes(random);
      AtomicFiles.writePrivate(secret, Base64.getUrlEncoder().withoutPadding().encode(random));
    }
    return new CaKeyStore(dir, Files.readString(secret, StandardCharsets.US_ASCII).trim().toCharArray());
  }

  public Path directory() {
    return dir;
  }

  public Path keystorePath() {
    return dir.resolve("ca.p12");
  }

  /** Loads the stored CA, or null when nothing was stored yet. */
  public Stored load() throws IOException {
    Path state = dir.resolve("ca-state.json");
    if (!Files.exists(state) || !Files.exists(keystorePath())) {
      return null;
    }
    JsonObject json = new JsonObject(Files.readString(state));
    try (InputStream in = Files.newInputStream(keystorePath())) {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(in, password);
      List<CaAuthority> authorities = new ArrayList<>();
      for (Object o : json.getJsonArray("authorities")) {
        JsonObject a = (JsonObject) o;
        String id = a.getString("id");
        PrivateKey x509Key = (PrivateKey) ks.getKey(id + "-x509", password);
        Certificate[] chain = ks.getCertificateChain(id + "-x509");
        PrivateKey jwtKey = (PrivateKey) ks.getKey(id + "-jwt", password);
        X509Certificate jwtHolder = (X509Certificate) ks.getCertificate(id + "-jwt");
        if (x509Key == null || chain == null || jwtKey == null || jwtHolder == null) {
          throw new IOException(keystorePath() + ": generation " + id + " is listed in ca-state.json but missing from the keystore");
        }
        List<X509Certificate> certs = new ArrayList<>();
        for (Certificate c : chain) {
          certs.add((X509Certificate) c);
        }
        X509Certificate root = certs.remove(certs.size() - 1);
        authorities.add(new CaAuthority(id, AuthorityState.valueOf(a.getString("state")), root, certs, x509Key,
            a.getString("jwtKid"), new KeyPair(jwtHolder.getPublicKey(), jwtKey)));
      }
      return new Stored(List.copyOf(authorities), json.getLong("sequence", 0L));
    } catch (GeneralSecurityException e) {
      throw new IOException(keystorePath() + ": cannot read keystore: " + e.getMessage(), e);
    }
  }

  /** Replaces the stored CA with {@code authorities} and {@code sequence}; keystore first, then state. */
  public void save(List<CaAuthority> authorities, long sequence, SignatureProvider signer) throws IOException {
    try {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, password);
      JsonArray list = new JsonArray();
      for (CaAuthority a : authorities) {
        List<X509Certificate> chain = new ArrayList<>(a.intermediateChain());
        chain.add(a.root());
        ks.setKeyEntry(a.id() + "-x509", a.intermediateKey(), password, chain.toArray(X509Certificate[]::new));
        ks.setKeyEntry(a.id() + "-jwt", a.jwtKey().getPrivate(), password,
            new X509Certificate[] {jwtHolder(a, signer)});
        list.add(new JsonObject().put("id", a.id()).put("state", a.state().name()).put("jwtKid", a.jwtKid()));
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ks.store(out, password);
      AtomicFiles.writePrivate(keystorePath(), out.toByteArray());
      AtomicFiles.writePrivate(dir.resolve("ca-state.json"),
          new JsonObject().put("authorities", list).put("sequence", sequence).encodePrettily()
              .getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IOException(keystorePath() + ": cannot write keystore: " + e.getMessage(), e);
    }
  }

  // PKCS#12 stores a private key only with a certificate: a self-signed holder for the JWT key, kept
  // locally and never published (the bundle carries the bare JWK).
  private final java.util.Map<String, X509Certificate> holders = new java.util.HashMap<>();

  private X509Certificate jwtHolder(CaAuthority a, SignatureProvider signer) {
    return holders.computeIfAbsent(a.jwtKid(), kid -> SvidCertificates.selfSignedRoot(
        new SvidCertificates.CaTemplate(io.spiffe.spiffeid.TrustDomain.parse("jwt.holder.invalid"),
            "jwt key " + kid,
            a.jwtKey().getPublic(), a.notBefore(), a.notAfter(), 0),
        a.jwtKey().getPrivate(), signer));
  }

}
