package dev.lattice.dataplane.filter;

/**
 * A typed key for per-request state that filters share ({@link HttpExchange#put}/{@link HttpExchange#get}):
 * identity by instance, so two filters can only meet on a key one of them publishes. Create once, as a
 * {@code static final} constant.
 */
public final class StateKey<T> {
  private final String name;
  private final Class<T> type;

  private StateKey(String name, Class<T> type) {
    this.name = name;
    this.type = type;
  }

  public static <T> StateKey<T> of(String name, Class<T> type) {
    return new StateKey<>(name, type);
  }

  public String name() { return name; }

  T cast(Object o) { return type.cast(o); }

  @Override
  public String toString() { return "StateKey[" + name + "]"; }
}
