package dev.lattice.authz.normalize;

/**
 * Checks of request parts that must be well formed before authorization (RFC 9110 tokens): an HTTP
 * method, a header name, a header value. The data plane's codec already enforces these on the wire;
 * {@code explain} and other callers that take requests as text run them explicitly. Stateless.
 */
public final class RequestSyntax {
  private RequestSyntax() {}

  /** @throws MalformedRequestException if {@code method} is not an RFC 9110 token */
  public static void checkMethod(String method) throws MalformedRequestException {
    if (!token(method)) {
      throw new MalformedRequestException("method " + PathNormalizer.excerpt(String.valueOf(method))
          + ": not a token (expected: letters, digits or !#$%&'*+-.^_`|~, e.g. GET)");
    }
  }

  /** @throws MalformedRequestException if {@code name} is not an RFC 9110 token */
  public static void checkHeaderName(String name) throws MalformedRequestException {
    if (!token(name)) {
      throw new MalformedRequestException("header name " + PathNormalizer.excerpt(String.valueOf(name))
          + ": not a token (expected: letters, digits or !#$%&'*+-.^_`|~, e.g. x-user)");
    }
  }

  /** @throws MalformedRequestException if {@code value} holds NUL, CR, LF or another control character but tab */
  public static void checkHeaderValue(String name, String value) throws MalformedRequestException {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if ((c < 0x20 && c != '\t') || c == 0x7F) {
        throw new MalformedRequestException("header " + name + ": control character 0x" + Integer.toHexString(c)
            + " in its value (expected: visible characters, spaces and tabs)");
      }
    }
  }

  /** Whether {@code s} is a non-empty RFC 9110 token. */
  public static boolean token(String s) {
    if (s == null || s.isEmpty()) return false;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
      if (!ok) return false;
    }
    return true;
  }
}
