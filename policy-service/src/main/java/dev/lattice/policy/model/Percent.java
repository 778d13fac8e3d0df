package dev.lattice.policy.model;

/** A percentage 0.0..100.0, as Istio's {@code Percent} ({@code percentage: {value: 50}}). Immutable. */
public record Percent(Double value) {
  public static Percent of(double value) {
    return new Percent(value);
  }
}
