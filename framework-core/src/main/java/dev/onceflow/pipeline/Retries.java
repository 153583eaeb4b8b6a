package dev.onceflow.pipeline;

import dev.onceflow.store.EffectRejectedException;
import java.time.Duration;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * How a failing handler is retried: a number of attempts with exponential backoff and jitter, and
 * which errors are retryable. Immutable; each method returns a new instance.
 *
 * <p>By default every error is retryable except {@link NonRetryableException} and {@link
 * EffectRejectedException} (and their subclasses). Retries wait on the pipeline's scheduler and
 * hold no thread. While the circuit breaker is open, waiting for it does not use up attempts.
 */
public final class Retries {

  /** Default first backoff: 100 ms, as most broker clients' retry backoff. */
  public static final Duration DEFAULT_FIRST_BACKOFF = Duration.ofMillis(100);

  /** Default cap on one backoff: 10 s, so that a message does not hold its lease for minutes. */
  public static final Duration DEFAULT_MAX_BACKOFF = Duration.ofSeconds(10);

  /** Default jitter: 0.5, so that backoffs of many messages spread out. */
  public static final double DEFAULT_JITTER = 0.5;

  private final int maxAttempts;
  private final Duration firstBackoff;
  private final Duration maxBackoff;
  private final double jitter;
  private final Predicate<Throwable> retryable;

  private Retries(
      int maxAttempts,
      Duration firstBackoff,
      Duration maxBackoff,
      double jitter,
      Predicate<Throwable> retryable) {
    this.maxAttempts = maxAttempts;
    this.firstBackoff = firstBackoff;
    this.maxBackoff = maxBackoff;
    this.jitter = jitter;
    this.retryable = retryable;
  }

  /**
   * The default policy: 3 attempts in all, waiting 1 s then 2 s (jitter 0.5), as Spring Cloud
   * Stream's default consumer retry; every error retryable but {@link NonRetryableException} and
   * {@link EffectRejectedException}.
   */
  public static Retries defaults() {
    return exponential(3, Duration.ofSeconds(1));
  }

  /** No retry: the first failure is final. */
  public static Retries none() {
    return new Retries(1, DEFAULT_FIRST_BACKOFF, DEFAULT_MAX_BACKOFF, 0, Retries::defaultRetryable);
  }

  /**
   * Up to {@code maxAttempts} handler calls in all, waiting {@code firstBackoff}, then twice as
   * long each time (capped by {@link #maxBackoff(Duration)}), with {@link #DEFAULT_JITTER}.
   */
  public static Retries exponential(int maxAttempts, Duration firstBackoff) {
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("maxAttempts must be at least 1, but was " + maxAttempts);
    }
    requirePositive(firstBackoff, "firstBackoff");
    return new Retries(
        maxAttempts,
        firstBackoff,
        firstBackoff.compareTo(DEFAULT_MAX_BACKOFF) > 0 ? firstBackoff : DEFAULT_MAX_BACKOFF,
        DEFAULT_JITTER,
        Retries::defaultRetryable);
  }

  /** Jitter factor in [0, 1]: each backoff is randomized by up to that fraction. */
  public Retries jitter(double jitter) {
    if (!(jitter >= 0 && jitter <= 1)) {
      throw new IllegalArgumentException("jitter must be between 0 and 1, but was " + jitter);
    }
    return new Retries(maxAttempts, firstBackoff, maxBackoff, jitter, retryable);
  }

  /** The longest one backoff may be; at least the first backoff. */
  public Retries maxBackoff(Duration maxBackoff) {
    requirePositive(maxBackoff, "maxBackoff");
    if (maxBackoff.compareTo(firstBackoff) < 0) {
      throw new IllegalArgumentException(
          "maxBackoff must be at least firstBackoff (" + firstBackoff + "), but was " + maxBackoff);
    }
    return new Retries(maxAttempts, firstBackoff, maxBackoff, jitter, retryable);
  }

  /**
   * Which errors are retried; the others dead-letter at once with reason {@code NON_RETRYABLE}.
   * {@link NonRetryableException} and {@link EffectRejectedException} are never retried.
   */
  public Retries retryOn(Predicate<Throwable> retryable) {
    required(retryable, "retryable");
    return new Retries(
        maxAttempts,
        firstBackoff,
        maxBackoff,
        jitter,
        t -> defaultRetryable(t) && retryable.test(t));
  }

  public int maxAttempts() {
    return maxAttempts;
  }

  public Duration firstBackoff() {
    return firstBackoff;
  }

  public Duration maxBackoff() {
    return maxBackoff;
  }

  public double jitter() {
    return jitter;
  }

  /** Whether an error is retryable under this policy. */
  public boolean isRetryable(Throwable error) {
    return retryable.test(error);
  }

  /**
   * The backoff before attempt {@code nextAttempt} (2 for the first retry), given a random value in
   * [0, 1).
   */
  public Duration backoff(int nextAttempt, double random) {
    long base = firstBackoff.toMillis();
    int shift = Math.min(Math.max(nextAttempt - 2, 0), 30);
    long exp = Math.min(maxBackoff.toMillis(), base << shift);
    long spread = (long) (exp * jitter);
    long value = exp - spread + (long) (2 * spread * random);
    return Duration.ofMillis(Math.max(0, Math.min(maxBackoff.toMillis(), value)));
  }

  private static boolean defaultRetryable(Throwable t) {
    return !(t instanceof NonRetryableException) && !(t instanceof EffectRejectedException);
  }

  /** {@code value}, or an {@link IllegalArgumentException} naming the option when it is null. */
  static <V> V required(@Nullable V value, String name) {
    if (value == null) {
      throw new IllegalArgumentException(name + " must not be null");
    }
    return value;
  }

  static void requirePositive(Duration d, String name) {
    required(d, name);
    if (d.isZero() || d.isNegative()) {
      throw new IllegalArgumentException(name + " must be positive, but was " + d);
    }
  }

  @Override
  public String toString() {
    return "Retries{maxAttempts="
        + maxAttempts
        + ", firstBackoff="
        + firstBackoff
        + ", maxBackoff="
        + maxBackoff
        + ", jitter="
        + jitter
        + "}";
  }
}
