package dev.lattice.authz;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * The common path allocates nothing: evaluating a request that no AUDIT or dry-run policy matches, over an
 * indexed engine with principal-, path- and port-filed rules, allocates 0 bytes per call (measured with the
 * thread's allocation counter; a JIT warm-up first, so only steady state is counted).
 */
class AllocationTest {

  @Test
  void aNonAuditedRequestAllocatesNothing() {
    StringBuilder policies = new StringBuilder("DENY shop/d: to.paths=/admin*");
    for (int i = 0; i < 40; i++) {
      policies.append(" ;; ALLOW shop/a").append(i).append(": from.principals=lattice.local/ns/shop/sa/w").append(i)
          .append(" to.paths=/api/").append(i).append("/* | to.ports=").append(9000 + i).append(" to.methods=POST");
    }
    policies.append(" ;; ALLOW shop/sa: from.serviceAccounts=shop/w7 to.paths=/sa/*"); // compared in place
    AuthorizationEngine engine = AuthorizationEngine.of(PolicyText.config(policies.toString()));
    AuthzRequest[] requests = {
        SimpleRequest.builder().from("lattice.local/ns/shop/sa/w7").method("GET").path("/api/7/items").port(8080).build(),
        SimpleRequest.builder().from("lattice.local/ns/shop/sa/w7").method("GET").path("/sa/x").port(8080).build(),
        SimpleRequest.builder().method("POST").path("/other").port(9003).build(),
        SimpleRequest.builder().port(9003).build(),
    };
    long sink = 0;
    for (int i = 0; i < 200_000; i++) sink += engine.evaluate(requests[i & 3]).ruleIndex();
    com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long tid = Thread.currentThread().getId();
    long before = mx.getThreadAllocatedBytes(tid);
    for (int i = 0; i < 100_000; i++) sink += engine.evaluate(requests[i & 3]).ruleIndex();
    long allocated = mx.getThreadAllocatedBytes(tid) - before;
    assertThat(sink).isNotZero();
    // The counter itself may allocate a few bytes once; 100k calls at even 1 byte each would be 100 KB.
    assertThat(allocated).as("bytes allocated by 100,000 evaluations").isLessThan(1_000);
  }
}
