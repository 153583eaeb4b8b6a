package dev.onceflow.spring.boot;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A configuration the starter cannot run with: it names the property, the value and what to do.
 * Thrown while the application context starts; Spring Boot's failure analysis prints it as the
 * startup failure's description and action.
 */
public class OnceflowConfigurationException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final String property;
  private final @Nullable String value;
  private final String action;

  /**
   * @param property the property, such as {@code onceflow.pipelines.orders.concurrency}
   * @param value the value that was given, or null when the property is missing
   * @param problem what is wrong, such as "must be between 1 and 10000"
   * @param action what to do about it
   * @param cause the underlying error, or null
   */
  public OnceflowConfigurationException(
      String property,
      @Nullable Object value,
      String problem,
      String action,
      @Nullable Throwable cause) {
    super(message(property, value, problem), cause);
    this.property = Objects.requireNonNull(property, "property");
    this.value = value == null ? null : String.valueOf(value);
    this.action = Objects.requireNonNull(action, "action");
  }

  public OnceflowConfigurationException(
      String property, @Nullable Object value, String problem, String action) {
    this(property, value, problem, action, null);
  }

  private static String message(String property, @Nullable Object value, String problem) {
    return value == null
        ? property + " " + problem + ", but it is not set"
        : property + " " + problem + ", but was '" + value + "'";
  }

  /** The property, such as {@code onceflow.pipelines.orders.concurrency}. */
  public String property() {
    return property;
  }

  /** The value that was given, or null when the property is missing. */
  public @Nullable String value() {
    return value;
  }

  /** What to do about it. */
  public String action() {
    return action;
  }
}
