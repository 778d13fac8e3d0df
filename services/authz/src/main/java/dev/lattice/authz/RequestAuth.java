package dev.lattice.authz;

import java.util.List;

/**
 * The end-user credential of a request, once a JWT has been validated (Istio's request authentication).
 * Until end-user JWT validation exists no request carries one, and rules that need it fail closed:
 * {@code requestPrincipals} and {@code request.auth.*} conditions never match, their negations always do
 * — exactly Istio's behaviour for a request without a token. Implementations are immutable.
 */
public interface RequestAuth {

  /** {@code <iss>/<sub>}, Istio's request principal. */
  String principal();

  /** The {@code aud} claim's values. */
  List<String> audiences();

  /** The {@code azp} claim, or null. */
  String presenter();

  /**
   * The values of a claim; {@code path} names nested claims ({@code request.auth.claims[a][b]} → {@code [a, b]}).
   * A string claim gives one value, a list of strings all of them; anything else (or absent) nothing.
   */
  List<String> claim(List<String> path);
}
