package dev.lattice.identity.entry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class EntryValidatorTest {

  private static final TrustDomain TD = TrustDomain.parse("lattice.local");
  private static final SpiffeId NODE = SpiffeId.parse("spiffe://lattice.local/lattice/node/n1");
  private static final Instant NOW = Instant.parse("2026-12-03T00:00:00Z");

  private static EntryDraft draft(String spiffeId, List<String> dnsNames) {
    return new EntryDraft(spiffeId, NODE.toString(), List.of("unix:uid:1000"), null, null, dnsNames, false, null);
  }

  private static RegistrationEntryRecord validate(EntryValidator validator, EntryDraft draft) {
    return validator.validate("e1", draft, List.of(), Set.of(NODE), NOW);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "spiffe://lattice.local/lattice/server",
      "spiffe://lattice.local/lattice/node/n2",
      "spiffe://lattice.local/lattice/agent/x",
      "spiffe://lattice.local/lattice"})
  void theReservedLatticePathIsRefused(String reserved) {
    assertThatThrownBy(() -> validate(new EntryValidator(TD), draft(reserved, List.of())))
        .isInstanceOf(EntryValidationException.class)
        .hasMessageStartingWith("spiffeId: " + reserved)
        .hasMessageContaining("not under /lattice/, which is reserved");
  }

  @ParameterizedTest
  @ValueSource(strings = {"spiffe://lattice.local/latticex/web", "spiffe://lattice.local/ns/lattice/sa/web"})
  void pathsThatOnlyLookLikeTheReservedOneAreFine(String id) {
    assertThat(validate(new EntryValidator(TD), draft(id, List.of())).spiffeId().toString()).isEqualTo(id);
  }

  @Test
  void wildcardDnsNamesNeedTheAdminSetting() {
    EntryDraft wildcard = draft("spiffe://lattice.local/ns/default/sa/web", List.of("web.default.svc", "*.evil.com"));
    assertThatThrownBy(() -> validate(new EntryValidator(TD), wildcard))
        .isInstanceOf(EntryValidationException.class)
        .hasMessage("dnsNames: '*.evil.com' (expected: no wildcard DNS names; an admin may allow them with"
            + " identity.entries.allow-wildcard-dns=true)");
    assertThat(validate(new EntryValidator(TD, true), wildcard).dnsNames())
        .containsExactly("web.default.svc", "*.evil.com");
  }
}
