package dev.lattice.dataplane.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lattice.authz.Decision;
import dev.lattice.authz.Reason;
import dev.lattice.dataplane.filter.authz.AuthorizationFilterFactory;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The authorization filter on an inbound listener, through lattice-authz, on real sockets. */
class AuthorizationFilterTest {
  private final ProxyFixture fx = new ProxyFixture();
  private EchoBackend backend;

  @AfterEach
  void tearDown() throws Exception {
    backend.close();
    fx.close();
  }

  private void start(boolean debug) throws Exception {
    backend = new EchoBackend(fx.vertx, "b1");
    String yaml = ProxyFixture.singleRoute(backend.port(), debug ? ", debugHeaders: true" : "")
        .replace("    direction: INBOUND\n", "    direction: INBOUND\n    authorization: authz-echo\n")
        + """
        authorization:
          - name: authz-echo
            policies:
              - namespace: default
                name: deny-admin
                action: DENY
                rules: [{to: [{operation: {paths: ["/admin/*"]}}]}]
        """;
    fx.start(yaml, List.of(new AuthorizationFilterFactory()));
  }

  @Test
  void deniesWith403AndAFixedBodyAndAllowsTheRest() throws Exception {
    start(false);
    try (RawHttpClient c = new RawHttpClient(fx.address("in"))) {
      RawHttpClient.Response denied = c.get("/admin/users", "echo.default");
      assertThat(denied.status()).isEqualTo(403);
      assertThat(denied.body()).isEqualTo("RBAC: access denied");
      assertThat(denied.header("x-lattice-authz")).isNull();
      ProxyFixture.Seen seen = fx.nextCompleted();
      assertThat(seen.flags()).isEqualTo("RBAC");
      assertThat(((Decision) seen.decision()).reason()).isEqualTo(Reason.DENY_MATCHED);
      assertThat(((Decision) seen.decision()).policyName()).isEqualTo("default/deny-admin");
      // a path that only normalizes to /admin is judged as /admin
      assertThat(c.get("/public/../admin/x", "echo.default").status()).isEqualTo(403);
      assertThat(c.get("/public", "echo.default").status()).isEqualTo(200);
    }
    assertThat(backend.requests.get()).isEqualTo(1);
    // outbound listeners carry no authorization
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      assertThat(c.get("/admin/users", "echo.default").status()).isEqualTo(200);
    }
  }

  @Test
  void debugSettingRevealsTheDecisionInAHeader() throws Exception {
    start(true);
    try (RawHttpClient c = new RawHttpClient(fx.address("in"))) {
      assertThat(c.get("/admin/users", "echo.default").header("x-lattice-authz"))
          .isEqualTo("deny; reason=deny_matched; policy=default/deny-admin");
      assertThat(c.get("/ok", "echo.default").header("x-lattice-authz")).isEqualTo("allow; reason=no_allow_policies");
    }
  }
}
