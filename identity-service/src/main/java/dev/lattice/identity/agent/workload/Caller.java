package dev.lattice.identity.agent.workload;

import dev.lattice.identity.agent.attestor.CallerProcess;
import dev.lattice.identity.agent.attestor.Selector;
import java.util.Set;

/** An attested Workload API caller: its process and the selectors the attestors found for it. */
record Caller(CallerProcess process, Set<Selector> selectors) {

  Caller {
    selectors = Set.copyOf(selectors);
  }
}
