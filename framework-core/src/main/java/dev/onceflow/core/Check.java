package dev.onceflow.core;

import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Argument checks for options and builders, with one message form everywhere: the option's name in
 * backquotes, the rule, and the value that broke it, such as {@code `leaseTtl` must be positive,
 * but was PT0S}. Every method returns its argument, so a setter reads {@code this.ttl =
 * Check.positive(ttl, "ttl")}.
 *
 * <p>A null argument is a {@link NullPointerException} naming the option (as {@link
 * Objects#requireNonNull(Object, String)}); every other violation is an {@link
 * IllegalArgumentException}. Stateless and thread-safe.
 */
public final class Check {

  private Check() {}

  /**
   * {@code value}, which must not be null.
   *
   * @throws NullPointerException naming the option when it is null
   */
  public static <T> T notNull(@Nullable T value, String name) {
    return Objects.requireNonNull(value, name);
  }

  /**
   * {@code value}, which must not be null, empty or only white space.
   *
   * @throws NullPointerException when it is null
   * @throws IllegalArgumentException when it is blank
   */
  public static String notBlank(@Nullable String value, String name) {
    Objects.requireNonNull(value, name);
    if (value.isBlank()) {
      throw new IllegalArgumentException(
          "`" + name + "` must not be blank, but was '" + value + "'");
    }
    return value;
  }

  /** {@code value}, which must be above zero. */
  public static int positive(int value, String name) {
    if (value <= 0) {
      throw invalid(name, "must be positive", value);
    }
    return value;
  }

  /** {@code value}, which must be above zero. */
  public static long positive(long value, String name) {
    if (value <= 0) {
      throw invalid(name, "must be positive", value);
    }
    return value;
  }

  /** {@code value}, which must be zero or more. */
  public static int notNegative(int value, String name) {
    if (value < 0) {
      throw invalid(name, "must not be negative", value);
    }
    return value;
  }

  /** {@code value}, which must be zero or more. */
  public static long notNegative(long value, String name) {
    if (value < 0) {
      throw invalid(name, "must not be negative", value);
    }
    return value;
  }

  /** {@code value}, which must lie in {@code [min, max]}. */
  public static int between(int value, int min, int max, String name) {
    if (value < min || value > max) {
      throw invalid(name, "must be between " + min + " and " + max, value);
    }
    return value;
  }

  /** {@code value}, which must lie strictly between 0 and 1. */
  public static double fraction(double value, String name) {
    if (!(value > 0 && value < 1)) {
      throw invalid(name, "must be greater than 0 and lower than 1", value);
    }
    return value;
  }

  /**
   * {@code value}, which must be longer than zero.
   *
   * @throws NullPointerException when it is null
   */
  public static Duration positive(@Nullable Duration value, String name) {
    Objects.requireNonNull(value, name);
    if (value.isZero() || value.isNegative()) {
      throw invalid(name, "must be positive", value);
    }
    return value;
  }

  /**
   * {@code value}, which must be zero or longer.
   *
   * @throws NullPointerException when it is null
   */
  public static Duration notNegative(@Nullable Duration value, String name) {
    Objects.requireNonNull(value, name);
    if (value.isNegative()) {
      throw invalid(name, "must not be negative", value);
    }
    return value;
  }

  /**
   * {@code value}, which must lie in {@code [min, max]}.
   *
   * @throws NullPointerException when it is null
   */
  public static Duration between(
      @Nullable Duration value, Duration min, Duration max, String name) {
    Objects.requireNonNull(value, name);
    if (value.compareTo(min) < 0 || value.compareTo(max) > 0) {
      throw invalid(name, "must be between " + min + " and " + max, value);
    }
    return value;
  }

  /**
   * {@code value}, which a builder needs before it can build.
   *
   * @param hint what the option is for or how to set it, appended after a colon; may be empty
   * @throws IllegalArgumentException {@code `name` is required: hint} when it is null
   */
  public static <T> T required(@Nullable T value, String name, String hint) {
    if (value == null) {
      throw new IllegalArgumentException(
          "`" + name + "` is required" + (hint.isEmpty() ? "" : ": " + hint));
    }
    return value;
  }

  /**
   * Checks that exactly one of two alternative options was set.
   *
   * @throws IllegalArgumentException {@code exactly one of `a` and `b` must be set, but neither
   *     was} (or {@code both were})
   */
  public static void exactlyOne(String a, boolean aSet, String b, boolean bSet) {
    if (aSet == bSet) {
      throw new IllegalArgumentException(
          "exactly one of `"
              + a
              + "` and `"
              + b
              + "` must be set, but "
              + (aSet ? "both were" : "neither was"));
    }
  }

  private static IllegalArgumentException invalid(String name, String rule, Object value) {
    return new IllegalArgumentException("`" + name + "` " + rule + ", but was " + value);
  }
}
