package dev.onceflow.spring.boot.internal;

import dev.onceflow.spring.boot.OnceflowConfigurationException;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/** Turns the core's and the adapters' argument errors into errors that name the property. */
final class Properties {

  private Properties() {}

  /** {@code onceflow.pipelines.<name>.<property>}. */
  static String pipeline(String name, String property) {
    return "onceflow.pipelines." + name + "." + property;
  }

  /**
   * Runs {@code step}; an {@link IllegalArgumentException} it throws becomes an {@link
   * OnceflowConfigurationException} for {@code property} and {@code value}.
   */
  static <T> T check(String property, @Nullable Object value, String action, Supplier<T> step) {
    try {
      return step.get();
    } catch (IllegalArgumentException e) {
      throw new OnceflowConfigurationException(
          property, value, "is not valid (" + e.getMessage() + ")", action, e);
    }
  }

  static String require(String property, @Nullable String value, String what) {
    if (value == null || value.isBlank()) {
      throw new OnceflowConfigurationException(
          property, value, "must name " + what, "Set " + property + ".");
    }
    return value;
  }

  /** A URI without its password, for messages. */
  static String redacted(String uri) {
    return uri.replaceAll("//([^:/@]*):[^@/]*@", "//$1:****@");
  }
}
