package dev.lattice.identity.attestation;

import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Attests a node by a Kubernetes projected service-account token (PSAT): the token is sent to the API
 * server in a {@code TokenReview} (authentication.k8s.io/v1) through fabric8; it must be authenticated,
 * for the configured audience, and belong to an allowed service account ({@code namespace:name}; empty
 * set = any). The node id is {@code k8s-<node-name>} from the token's
 * {@code authentication.kubernetes.io/node-name} extra (falling back to the pod name).
 *
 * <p>Thread-safe; {@link #attest} blocks on the API server (call it off the event loop). Does not own
 * the client.
 */
public final class KubernetesTokenAttestor {

  private static final String SA_PREFIX = "system:serviceaccount:";

  private final KubernetesClient client;
  private final String audience;
  private final Set<String> allowedServiceAccounts;

  public KubernetesTokenAttestor(KubernetesClient client, String audience, Set<String> allowedServiceAccounts) {
    this.client = client;
    this.audience = audience;
    this.allowedServiceAccounts = Set.copyOf(allowedServiceAccounts);
  }

  /** Verifies {@code token} and returns the node id it attests. */
  public String attest(String token) {
    TokenReview review;
    try {
      review = client.resource(new TokenReviewBuilder().withNewSpec().withToken(token)
          .withAudiences(List.of(audience)).endSpec().build()).create();
    } catch (KubernetesClientException e) {
      throw new AttestationException("k8s psat: TokenReview failed: " + e.getMessage(), e);
    }
    if (review == null || review.getStatus() == null || !Boolean.TRUE.equals(review.getStatus().getAuthenticated())) {
      String why = review == null || review.getStatus() == null ? "no status" : review.getStatus().getError();
      throw new AttestationException("k8s psat: token not authenticated by the API server (" + why + ")");
    }
    if (review.getStatus().getAudiences() != null && !review.getStatus().getAudiences().isEmpty()
        && !review.getStatus().getAudiences().contains(audience)) {
      throw new AttestationException("k8s psat: audiences " + review.getStatus().getAudiences()
          + " (expected: " + audience + ")");
    }
    String username = review.getStatus().getUser() == null ? null : review.getStatus().getUser().getUsername();
    if (username == null || !username.startsWith(SA_PREFIX)) {
      throw new AttestationException("k8s psat: user '" + username + "' (expected: system:serviceaccount:<ns>:<name>)");
    }
    String serviceAccount = username.substring(SA_PREFIX.length());
    if (!allowedServiceAccounts.isEmpty() && !allowedServiceAccounts.contains(serviceAccount)) {
      throw new AttestationException("k8s psat: service account '" + serviceAccount + "' (expected one of "
          + allowedServiceAccounts + ")");
    }
    Map<String, List<String>> extra = review.getStatus().getUser().getExtra();
    String node = first(extra, "authentication.kubernetes.io/node-name");
    if (node == null) {
      node = first(extra, "authentication.kubernetes.io/pod-name");
    }
    if (node == null) {
      throw new AttestationException("k8s psat: token carries no node or pod name (expected: a projected token bound to a pod)");
    }
    return "k8s-" + node.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9._-]", "-");
  }

  private static String first(Map<String, List<String>> extra, String key) {
    if (extra == null || extra.get(key) == null || extra.get(key).isEmpty()) {
      return null;
    }
    return extra.get(key).get(0);
  }
}
