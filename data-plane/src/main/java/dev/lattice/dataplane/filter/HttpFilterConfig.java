package dev.lattice.dataplane.filter;

/**
 * A filter's configuration for one listener of one config snapshot: built once when the snapshot is
 * applied (compile policies, regexes, tables there), shared by every request on that listener, so it
 * must be immutable and thread-safe. {@link #newFilter()} makes the per-request instance.
 */
public interface HttpFilterConfig {

  /** The filter for one request; a stateless filter may return one shared instance. */
  HttpFilter newFilter();
}
