package dev.lattice.kit.admin;

import dev.lattice.kit.config.LatticeConfig;
import dev.lattice.kit.files.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The file holding Lattice's admin credential: one bearer token per line (blank lines and {@code #}
 * comments ignored), mode 600, like a kubeconfig. Services accept every token in it, so a rotation can
 * overlap: add the new token, hand it out, remove the old one. The first token is the one clients send.
 *
 * <p>A token is {@code lat_} followed by 32 random bytes in base64url (256 bits; the prefix lets
 * secret scanners spot a leaked one). Where the file is: {@value #CONFIG_KEY} if set, else
 * {@code <data.dir>/}{@value #FILE_NAME}, else {@code .lattice/}{@value #FILE_NAME} — the same place the
 * local stack and the CLI look.
 *
 * <p>Blocking (disk I/O): use from a worker thread. Immutable and thread-safe; writers go through
 * {@link AtomicFiles}, so a reader sees the old or the new content, never a torn file.
 */
public final class AdminTokenFile {

  /** The config key naming the token file. */
  public static final String CONFIG_KEY = "admin.token.file";
  /** The file's name inside a data dir. */
  public static final String FILE_NAME = "admin.token";
  /** Every token starts with this. */
  public static final String TOKEN_PREFIX = "lat_";

  private static final SecureRandom RANDOM = new SecureRandom();

  private final Path path;

  private AdminTokenFile(Path path) {
    this.path = path;
  }

  /** The token file at {@code path}. */
  public static AdminTokenFile at(Path path) {
    return new AdminTokenFile(path.toAbsolutePath());
  }

  /** The token file in a data dir: {@code <dataDir>/admin.token}. */
  public static AdminTokenFile inDataDir(Path dataDir) {
    return at(dataDir.resolve(FILE_NAME));
  }

  /** The token file a service with {@code config} uses (see the class comment). */
  public static AdminTokenFile of(LatticeConfig config) {
    Optional<String> explicit = config.find(CONFIG_KEY).filter(s -> !s.isBlank());
    if (explicit.isPresent()) {
      return at(Path.of(explicit.get()));
    }
    return inDataDir(Path.of(config.get("data.dir", ".lattice")));
  }

  public Path path() {
    return path;
  }

  /** A new random token. */
  public static String newToken() {
    byte[] secret = new byte[32];
    RANDOM.nextBytes(secret);
    return TOKEN_PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
  }

  /**
   * Writes a file with a new token unless the file exists (two services starting together end up
   * with the same one). Returns true when this call created it.
   */
  public boolean createIfMissing() throws IOException {
    return AtomicFiles.createIfAbsent(path, content(List.of(newToken())), AtomicFiles.OWNER_ONLY);
  }

  /**
   * The tokens in the file, in file order.
   *
   * @throws NoSuchFileException when there is no file
   * @throws IOException when it cannot be read or holds no token
   */
  public List<String> tokens() throws IOException {
    List<String> tokens = new ArrayList<>();
    for (String line : Files.readAllLines(path, StandardCharsets.UTF_8)) {
      String t = line.strip();
      if (!t.isEmpty() && !t.startsWith("#")) {
        tokens.add(t);
      }
    }
    if (tokens.isEmpty()) {
      throw new IOException(path + " holds no token (expected: one bearer token per line)");
    }
    return List.copyOf(tokens);
  }

  /** The token a client sends (the first one), or empty when there is no readable file. */
  public Optional<String> clientToken() {
    try {
      return Optional.of(tokens().get(0));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** True when group or others may read the file (a token anyone on the host can read is no credential). */
  public boolean readableByOthers() throws IOException {
    try {
      Set<PosixFilePermission> p = Files.getPosixFilePermissions(path);
      return p.contains(PosixFilePermission.GROUP_READ) || p.contains(PosixFilePermission.OTHERS_READ);
    } catch (UnsupportedOperationException nonPosix) {
      return false;
    }
  }

  /**
   * Rotates: writes a new first token. With {@code keepPrevious} the tokens in force stay valid after
   * it (an overlap while clients are updated; remove them later with another rotation without it),
   * else they stop working as soon as the services re-read the file. Returns the new token.
   */
  public String rotate(boolean keepPrevious) throws IOException {
    List<String> next = new ArrayList<>();
    String token = newToken();
    next.add(token);
    if (keepPrevious && Files.exists(path)) {
      next.addAll(tokens());
    }
    AtomicFiles.write(path, content(next), AtomicFiles.OWNER_ONLY);
    return token;
  }

  private static byte[] content(List<String> tokens) {
    StringBuilder b = new StringBuilder("# Lattice admin credential: bearer tokens, one per line; the first is the one clients send.\n"
        + "# Keep this file mode 600. Rotation: docs/operations.md#admin-credential\n");
    tokens.forEach(t -> b.append(t).append('\n'));
    return b.toString().getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public String toString() {
    return "AdminTokenFile[" + path + "]";
  }
}
