/**
 * Lattice's one authorization engine, over the compiled config ({@code AuthorizationConfig}): the data
 * plane enforces what it decides, {@code explain} answers with it, and the compiler's simulation tests run
 * it. Istio's AuthorizationPolicy semantics; Envoy's shared RBAC engine ({@code filters/common/rbac}) is
 * the model. Depends on the Avro schemas only.
 *
 * <p>Use: build one {@link dev.lattice.authz.AuthorizationEngine} per config snapshot
 * ({@link dev.lattice.authz.AuthorizationEngine#of}); normalize each request's path with
 * {@link dev.lattice.authz.normalize.PathNormalizer} (a malformed request becomes
 * {@link dev.lattice.authz.Decision#rejectedBeforeAuthz}); evaluate an {@link dev.lattice.authz.AuthzRequest}.
 */
package dev.lattice.authz;
