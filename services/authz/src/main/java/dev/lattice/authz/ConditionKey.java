package dev.lattice.authz;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * A {@code when} condition key of Istio's "Authorization Policy Conditions" reference, parsed:
 * {@code request.headers[<name>]}, {@code source.ip}, {@code remote.ip}, {@code source.namespace},
 * {@code source.principal}, {@code request.auth.principal}, {@code request.auth.audiences},
 * {@code request.auth.presenter}, {@code request.auth.claims[<name>]…}, {@code destination.ip},
 * {@code destination.port}, {@code connection.sni}. Anything else is {@link Attribute#UNSUPPORTED} (the
 * validator rejects it; the engine fails closed on it). Immutable.
 *
 * @param attribute what the key names
 * @param argument the header name (lower case) for headers; null otherwise
 * @param claimPath the claim names for {@code request.auth.claims[a][b]}; empty otherwise
 */
public record ConditionKey(Attribute attribute, String argument, List<String> claimPath) {

  /** The attributes a condition can name. */
  public enum Attribute {
    REQUEST_HEADER(true),
    SOURCE_IP(false),
    REMOTE_IP(false),
    SOURCE_NAMESPACE(false),
    SOURCE_PRINCIPAL(false),
    REQUEST_AUTH_PRINCIPAL(true),
    REQUEST_AUTH_AUDIENCES(true),
    REQUEST_AUTH_PRESENTER(true),
    REQUEST_AUTH_CLAIMS(true),
    DESTINATION_IP(false),
    DESTINATION_PORT(false),
    CONNECTION_SNI(false),
    UNSUPPORTED(false);

    private final boolean httpOnly;

    Attribute(boolean httpOnly) {
      this.httpOnly = httpOnly;
    }

    /** Whether Istio supports it on HTTP only (on TCP such a condition never holds in ALLOW and is dropped in DENY). */
    public boolean httpOnly() {
      return httpOnly;
    }
  }

  /** Every supported key, as the reference writes them (for error messages). */
  public static final List<String> SUPPORTED = List.of(
      "request.headers[<name>]", "source.ip", "remote.ip", "source.namespace", "source.principal",
      "request.auth.principal", "request.auth.audiences", "request.auth.presenter",
      "request.auth.claims[<name>]", "destination.ip", "destination.port", "connection.sni");

  public ConditionKey {
    claimPath = List.copyOf(claimPath);
  }

  /** Parses a key; never throws ({@link Attribute#UNSUPPORTED} for what it does not know). */
  public static ConditionKey parse(String key) {
    if (key == null) return unsupported();
    if (key.startsWith("request.headers[") && key.endsWith("]") && key.indexOf(']') == key.length() - 1) {
      String name = key.substring("request.headers[".length(), key.length() - 1);
      if (name.isEmpty()) return unsupported();
      return new ConditionKey(Attribute.REQUEST_HEADER, name.toLowerCase(Locale.ROOT), List.of());
    }
    if (key.startsWith("request.auth.claims[")) {
      return claims(key.substring("request.auth.claims".length())).map(
          path -> new ConditionKey(Attribute.REQUEST_AUTH_CLAIMS, null, path)).orElse(unsupported());
    }
    Attribute a = switch (key) {
      case "source.ip" -> Attribute.SOURCE_IP;
      case "remote.ip" -> Attribute.REMOTE_IP;
      case "source.namespace" -> Attribute.SOURCE_NAMESPACE;
      case "source.principal" -> Attribute.SOURCE_PRINCIPAL;
      case "request.auth.principal" -> Attribute.REQUEST_AUTH_PRINCIPAL;
      case "request.auth.audiences" -> Attribute.REQUEST_AUTH_AUDIENCES;
      case "request.auth.presenter" -> Attribute.REQUEST_AUTH_PRESENTER;
      case "destination.ip" -> Attribute.DESTINATION_IP;
      case "destination.port" -> Attribute.DESTINATION_PORT;
      case "connection.sni" -> Attribute.CONNECTION_SNI;
      default -> Attribute.UNSUPPORTED;
    };
    return new ConditionKey(a, null, List.of());
  }

  /** {@code [a][b]} → {@code [a, b]}; empty when malformed. */
  private static Optional<List<String>> claims(String brackets) {
    List<String> out = new ArrayList<>();
    int i = 0;
    while (i < brackets.length()) {
      if (brackets.charAt(i) != '[') return Optional.empty();
      int close = brackets.indexOf(']', i);
      if (close < 0) return Optional.empty();
      String name = brackets.substring(i + 1, close);
      if (name.isEmpty() || name.contains("[")) return Optional.empty();
      out.add(name);
      i = close + 1;
    }
    return out.isEmpty() ? Optional.empty() : Optional.of(out);
  }

  private static ConditionKey unsupported() {
    return new ConditionKey(Attribute.UNSUPPORTED, null, List.of());
  }

  /** Whether the value lists of this key are IP addresses / CIDR blocks. */
  public boolean ipValued() {
    return attribute == Attribute.SOURCE_IP || attribute == Attribute.REMOTE_IP || attribute == Attribute.DESTINATION_IP;
  }
}
