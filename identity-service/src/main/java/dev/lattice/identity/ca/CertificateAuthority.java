package dev.lattice.identity.ca;

import dev.lattice.identity.ca.JwtAuthority;
import dev.lattice.identity.ca.TrustBundleSnapshot;
import io.spiffe.spiffeid.TrustDomain;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CA of one trust domain: its generations of signing material (root → intermediate signing CA, JWT
 * key), their rotation with overlap (PREPARED → ACTIVE → RETIRED) and X.509-SVID issuance.
 *
 * <p>Rotation ({@link #rotateIfDue()}): a new generation is PREPARED (and published in the bundle) once
 * the active one has passed half its lifetime, becomes ACTIVE at five sixths, and the old one is RETIRED;
 * a retired generation leaves the bundle once it has expired (nothing it signed outlives it). Every
 * change bumps the bundle sequence, is saved to the {@link CaKeyStore} and is announced to the bundle
 * listeners (public material only).
 *
 * <p>Thread-safe: issuance reads an immutable snapshot; mutations are synchronized. Issuing signs: call
 * it off the event loop. Not closeable.
 */
public final class CertificateAuthority {

  private static final Logger log = LoggerFactory.getLogger(CertificateAuthority.class);

  /**
   * CA settings.
   *
   * @param trustDomain the trust domain this CA is authoritative for
   * @param caTtl lifetime of a generation (root and intermediate)
   * @param backdate how far before "now" SVIDs start, to absorb clock skew
   * @param refreshHint the bundle's {@code spiffe_refresh_hint}
   * @param upstream an upstream CA to sign intermediates instead of a self-made root
   */
  public record Settings(TrustDomain trustDomain, Duration caTtl, Duration backdate, Duration refreshHint,
      Optional<UpstreamAuthority> upstream) {
    public static Settings defaults(TrustDomain trustDomain) {
      return new Settings(trustDomain, Duration.ofDays(30), Duration.ofSeconds(10), Duration.ofMinutes(5),
          Optional.empty());
    }
  }

  private record State(List<CaAuthority> authorities, long sequence) {}

  private final Settings settings;
  private final SignatureProvider signer;
  private final CaKeyStore store;
  private final Clock clock;
  private final List<Consumer<TrustBundleSnapshot>> listeners = new CopyOnWriteArrayList<>();
  private volatile State state;
  // the active intermediate's pre-encoded leaf template, rebuilt when the active generation changes
  private volatile LeafCertificateEncoder leafEncoder;

  private CertificateAuthority(Settings settings, SignatureProvider signer, CaKeyStore store, Clock clock, State state) {
    this.settings = settings;
    this.signer = signer;
    this.store = store;
    this.clock = clock;
    this.state = state;
  }

  /**
   * Loads the CA from {@code store}, or creates its first ACTIVE generation (and saves it) when the store
   * is empty. Blocking (disk, key generation, signing).
   */
  public static CertificateAuthority open(Settings settings, SignatureProvider signer, CaKeyStore store, Clock clock)
      throws IOException {
    CaKeyStore.Stored stored = store.load();
    if (stored != null && !stored.authorities().isEmpty()) {
      TrustDomain storedTd = trustDomainOf(stored.authorities().get(0).root());
      if (storedTd != null && !storedTd.equals(settings.trustDomain())) {
        throw new IOException(store.keystorePath() + ": holds a CA for trust domain '" + storedTd
            + "' (expected: '" + settings.trustDomain() + "')");
      }
      log.info("CA for {} loaded from {}: {} (bundle sequence {})", settings.trustDomain(),
          store.keystorePath(), stored.authorities(), stored.sequence());
      return new CertificateAuthority(settings, signer, store, clock, new State(stored.authorities(), stored.sequence()));
    }
    CertificateAuthority ca = new CertificateAuthority(settings, signer, store, clock, new State(List.of(), 0));
    CaAuthority first = ca.newGeneration(AuthorityState.ACTIVE);
    ca.commit(new State(List.of(first), 1));
    log.info("CA for {} created in {}: {}", settings.trustDomain(), store.keystorePath(), first);
    return ca;
  }

  public TrustDomain trustDomain() {
    return settings.trustDomain();
  }

  public SignatureProvider signer() {
    return signer;
  }

  public Clock clock() {
    return clock;
  }

  /** Every generation, oldest first. */
  public List<CaAuthority> authorities() {
    return state.authorities();
  }

  /** The generation that signs new SVIDs. */
  public CaAuthority active() {
    return state.authorities().stream().filter(a -> a.state() == AuthorityState.ACTIVE).findFirst()
        .orElseThrow(() -> new IllegalStateException("no ACTIVE CA generation for " + settings.trustDomain()));
  }

  /** The current bundle: roots and JWT keys of every generation still published. */
  public TrustBundleSnapshot bundle() {
    State s = state;
    List<X509Certificate> roots = new ArrayList<>();
    List<JwtAuthority> jwt = new ArrayList<>();
    for (CaAuthority a : s.authorities()) {
      if (roots.stream().noneMatch(r -> r.equals(a.root()))) {
        roots.add(a.root());
      }
      jwt.add(new JwtAuthority(a.jwtKid(), a.jwtKey().getPublic(), a.notAfter()));
    }
    return new TrustBundleSnapshot(settings.trustDomain(), roots, jwt, s.sequence(), settings.refreshHint());
  }

  /** Called with every new bundle (on the thread that changed it). */
  public void onBundleChange(Consumer<TrustBundleSnapshot> listener) {
    listeners.add(listener);
  }

  /**
   * Signs an X.509-SVID with the active intermediate. The leaf starts {@code backdate} before now and
   * ends at {@code now + ttl}, cut to the intermediate's expiry (an SVID never outlives its CA).
   * Blocking: it signs.
   */
  public IssuedX509Svid issue(X509SvidRequest request) {
    if (!request.spiffeId().memberOf(settings.trustDomain())) {
      throw new IllegalArgumentException("spiffe id: " + request.spiffeId() + " (expected: a member of "
          + settings.trustDomain() + ")");
    }
    if (request.ttl().isNegative() || request.ttl().isZero()) {
      throw new IllegalArgumentException("ttl: " + request.ttl() + " (expected: > 0)");
    }
    CaAuthority ca = active();
    Instant now = clock.instant();
    Instant notBefore = now.minus(settings.backdate());
    if (notBefore.isBefore(ca.notBefore())) {
      notBefore = ca.notBefore();
    }
    Instant notAfter = now.plus(request.ttl());
    if (notAfter.isAfter(ca.notAfter())) {
      notAfter = ca.notAfter();
    }
    LeafCertificateEncoder encoder = leafEncoder;
    if (encoder == null || !encoder.isFor(ca.intermediate(), ca.intermediateKey(), signer)) {
      encoder = LeafCertificateEncoder.of(ca.intermediate(), ca.intermediateKey(), signer);
      leafEncoder = encoder;
    }
    X509Certificate leaf = encoder.leaf(request.spiffeId(), request.publicKey(), request.dnsNames(), notBefore, notAfter);
    List<X509Certificate> chain = new ArrayList<>();
    chain.add(leaf);
    chain.addAll(ca.intermediateChain());
    return new IssuedX509Svid(request.spiffeId(), chain, ca.id());
  }

  /** Runs the rotation schedule against the clock; true when something changed. Blocking when it does. */
  public synchronized boolean rotateIfDue() {
    Instant now = clock.instant();
    List<CaAuthority> list = new ArrayList<>(state.authorities());
    boolean changed = list.removeIf(a -> a.state() == AuthorityState.RETIRED && !a.notAfter().isAfter(now));
    CaAuthority active = active();
    Duration life = Duration.between(active.notBefore(), active.notAfter());
    Duration age = Duration.between(active.notBefore(), now);
    boolean hasPrepared = list.stream().anyMatch(a -> a.state() == AuthorityState.PREPARED);
    if (!hasPrepared && age.compareTo(life.dividedBy(2)) >= 0) {
      list.add(newGeneration(AuthorityState.PREPARED));
      hasPrepared = true;
      changed = true;
    }
    if (hasPrepared && age.compareTo(life.multipliedBy(5).dividedBy(6)) >= 0) {
      list = promote(list);
      changed = true;
    }
    if (changed) {
      commit(new State(List.copyOf(list), state.sequence() + 1));
      log.info("CA for {} rotated: {} (bundle sequence {})", settings.trustDomain(), list, state.sequence());
    }
    return changed;
  }

  /** Prepares a new generation now (published, not signing). */
  public synchronized CaAuthority prepare() {
    if (state.authorities().stream().anyMatch(a -> a.state() == AuthorityState.PREPARED)) {
      throw new IllegalStateException("a PREPARED generation already exists");
    }
    CaAuthority next = newGeneration(AuthorityState.PREPARED);
    List<CaAuthority> list = new ArrayList<>(state.authorities());
    list.add(next);
    commit(new State(List.copyOf(list), state.sequence() + 1));
    return next;
  }

  /** Makes the PREPARED generation ACTIVE and retires the current one. */
  public synchronized void activate() {
    commit(new State(List.copyOf(promote(new ArrayList<>(state.authorities()))), state.sequence() + 1));
  }

  /** Raises the bundle sequence to at least {@code sequence} (e.g. the last one seen on Kafka). */
  public synchronized void raiseSequence(long sequence) {
    if (sequence > state.sequence()) {
      commit(new State(state.authorities(), sequence));
    }
  }

  private List<CaAuthority> promote(List<CaAuthority> list) {
    if (list.stream().noneMatch(a -> a.state() == AuthorityState.PREPARED)) {
      throw new IllegalStateException("no PREPARED generation to activate");
    }
    List<CaAuthority> out = new ArrayList<>();
    for (CaAuthority a : list) {
      out.add(switch (a.state()) {
        case ACTIVE -> a.withState(AuthorityState.RETIRED);
        case PREPARED -> a.withState(AuthorityState.ACTIVE);
        case RETIRED -> a;
      });
    }
    out.sort(Comparator.comparing(CaAuthority::notBefore));
    return out;
  }

  private void commit(State next) {
    try {
      store.save(next.authorities(), next.sequence(), signer);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot save CA state to " + store.keystorePath(), e);
    }
    state = next;
    TrustBundleSnapshot bundle = bundle();
    for (Consumer<TrustBundleSnapshot> l : listeners) {
      try {
        l.accept(bundle);
      } catch (RuntimeException e) {
        log.warn("bundle listener failed: {}", e.toString());
      }
    }
  }

  private CaAuthority newGeneration(AuthorityState initial) {
    Instant now = clock.instant();
    String id = Long.toString(now.getEpochSecond(), 36) + "-" + randomId(4);
    KeyPair intermediateKeys = CaKeys.newP256();
    X509Certificate root;
    List<X509Certificate> chain = new ArrayList<>();
    Instant notAfter = now.plus(settings.caTtl());
    if (settings.upstream().isPresent()) {
      UpstreamAuthority up = settings.upstream().get();
      Instant upstreamEnd = up.signingCertificate().getNotAfter().toInstant();
      if (notAfter.isAfter(upstreamEnd)) {
        notAfter = upstreamEnd;
      }
      root = up.root();
      chain.add(SvidCertificates.signingCa(new SvidCertificates.CaTemplate(settings.trustDomain(),
          settings.trustDomain() + " intermediate " + id, intermediateKeys.getPublic(), now, notAfter, 0),
          up.signingCertificate(), up.key(), signer));
      chain.addAll(up.chain().subList(0, up.chain().size() - 1));
    } else {
      KeyPair rootKeys = CaKeys.newP256();
      root = SvidCertificates.selfSignedRoot(new SvidCertificates.CaTemplate(settings.trustDomain(),
          settings.trustDomain() + " root " + id, rootKeys.getPublic(), now, notAfter, 1), rootKeys.getPrivate(), signer);
      chain.add(SvidCertificates.signingCa(new SvidCertificates.CaTemplate(settings.trustDomain(),
          settings.trustDomain() + " intermediate " + id, intermediateKeys.getPublic(), now, notAfter, 0),
          root, rootKeys.getPrivate(), signer));
      // the root key is dropped here: nothing but this intermediate is ever signed with it
    }
    return new CaAuthority(id, initial, root, chain, intermediateKeys.getPrivate(), randomId(24), CaKeys.newP256());
  }

  private static String randomId(int bytes) {
    byte[] b = new byte[bytes];
    CaKeys.random().nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  private static TrustDomain trustDomainOf(X509Certificate cert) {
    try {
      if (cert.getSubjectAlternativeNames() == null) {
        return null;
      }
      for (List<?> san : cert.getSubjectAlternativeNames()) {
        if (Integer.valueOf(6).equals(san.get(0)) && san.get(1).toString().startsWith("spiffe://")) {
          return TrustDomain.parse(san.get(1).toString().substring("spiffe://".length()));
        }
      }
    } catch (java.security.cert.CertificateParsingException e) {
      return null;
    }
    return null;
  }
}
