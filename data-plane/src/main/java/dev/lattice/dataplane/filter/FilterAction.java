package dev.lattice.dataplane.filter;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * What a filter decided about a request: continue down the chain, or answer with a {@link LocalResponse}.
 * Immutable.
 */
public final class FilterAction {
  private static final FilterAction CONTINUE = new FilterAction(null);
  private static final CompletionStage<FilterAction> CONTINUE_NOW = CompletableFuture.completedFuture(CONTINUE);

  private final LocalResponse response;

  private FilterAction(LocalResponse response) {
    this.response = response;
  }

  /** Continue with the next filter (then routing). */
  public static FilterAction proceed() { return CONTINUE; }

  /** An already completed stage of {@link #proceed()}: what a synchronous filter returns, allocation-free. */
  public static CompletionStage<FilterAction> proceedNow() { return CONTINUE_NOW; }

  /** Stop the chain and send {@code response}. */
  public static FilterAction respond(LocalResponse response) { return new FilterAction(response); }

  /** Completed stage of {@link #respond}. */
  public static CompletionStage<FilterAction> respondNow(LocalResponse response) {
    return CompletableFuture.completedFuture(respond(response));
  }

  /** The short-circuit response, or null to continue. */
  public LocalResponse response() { return response; }
}
