package dev.lattice.policy.compiler;

import dev.lattice.events.ResourceEvent;
import dev.lattice.policy.model.Resource;
import dev.lattice.policy.model.ResourceEventMapper;
import dev.lattice.policy.model.ResourceValidator;
import dev.lattice.policy.model.ValidationReport;
import java.util.Optional;

/**
 * The production {@link ResourceAdmission}: maps the event back to the resource model and runs the
 * same validator as the REST API ({@link ResourceValidator}, standalone rules only, so a replay always
 * gives the same answer). Stateless; thread-safe.
 */
public final class ValidatedAdmission implements ResourceAdmission {

  /** The shared instance. */
  public static final ValidatedAdmission INSTANCE = new ValidatedAdmission();

  private ValidatedAdmission() {}

  @Override
  public Optional<String> reject(ResourceEvent event) {
    Resource resource;
    try {
      resource = ResourceEventMapper.toResource(event);
    } catch (RuntimeException e) {
      return Optional.of(String.valueOf(e.getMessage()));
    }
    ValidationReport report = ResourceValidator.validate(resource);
    return report.valid() ? Optional.empty() : Optional.of(report.firstError().toString());
  }
}
