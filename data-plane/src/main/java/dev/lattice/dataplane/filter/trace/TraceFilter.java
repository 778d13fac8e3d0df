package dev.lattice.dataplane.filter.trace;

import dev.lattice.dataplane.filter.FilterAction;
import dev.lattice.dataplane.filter.HttpExchange;
import dev.lattice.dataplane.filter.HttpFilter;
import dev.lattice.dataplane.filter.StateKey;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;

/**
 * W3C Trace Context propagation: continues the request's {@code traceparent} with a new span id for this
 * hop (or starts a trace when the header is missing or malformed, which the spec forbids forwarding),
 * sends the new header upstream with {@code tracestate} untouched, and publishes the context under
 * {@link #TRACE_CONTEXT} for flow records and the access log. Runs first so even a denied request is
 * traced. Stateless and thread-safe.
 */
public final class TraceFilter implements HttpFilter {
  /** This hop's trace context. */
  public static final StateKey<TraceContext> TRACE_CONTEXT = StateKey.of("trace.context", TraceContext.class);
  private static final AsciiString TRACEPARENT = AsciiString.cached(TraceContext.HEADER);

  static final TraceFilter INSTANCE = new TraceFilter();

  private TraceFilter() {}

  @Override
  public CompletionStage<FilterAction> onRequest(HttpExchange exchange) {
    HttpHeaders h = exchange.request().headers();
    // a repeated traceparent is ambiguous: treat it as missing (getAll, not get)
    // most requests carry none: one lookup, and the list only for a header that is there
    java.util.List<String> all = h.contains(TRACEPARENT) ? h.getAll(TRACEPARENT) : java.util.List.of();
    TraceContext ctx = TraceContext.continueFrom(all.size() == 1 ? all.get(0) : null, ThreadLocalRandom.current());
    if (ctx.parentSpanId() == null && !all.isEmpty()) {
      // the spec: a malformed traceparent restarts the trace and the vendor state goes with it
      h.remove("tracestate");
    }
    h.set(TRACEPARENT, ctx.header());
    exchange.put(TRACE_CONTEXT, ctx);
    return FilterAction.proceedNow();
  }
}
