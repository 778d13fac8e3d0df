package dev.lattice.identity.agent.workload;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AuthorityRewriterTest {

  @ParameterizedTest
  @CsvSource({
      // what java-spiffe sends over a UDS: the socket path
      "/tmp/lattice-agent-1/workload.sock, localhost",
      "%2Ftmp%2Fagent.sock, localhost",
      // what Vert.x accepts stays as is
      "localhost, localhost",
      "localhost:7075, localhost:7075",
      "127.0.0.1:1, 127.0.0.1:1"})
  void rewritesOnlyAuthoritiesVertxCannotParse(String sent, String seen) {
    assertThat(AuthorityRewriter.acceptable(sent).toString()).isEqualTo(seen);
  }
}
