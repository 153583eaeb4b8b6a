package dev.onceflow.store;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What {@link IdempotencyStore#complete(Lease, Completion)} records.
 *
 * @param outcome the outcome to record
 * @param result the result bytes to cache for duplicates, or null
 * @param retention how long the record lives; positive
 * @param effects transactional effects to apply atomically with the record (only with {@link
 *     RecordedOutcome#PROCESSED}; a dead-lettered key never carries an applied effect)
 */
public record Completion(
    RecordedOutcome outcome, byte @Nullable [] result, Duration retention, List<Effect> effects) {

  public Completion {
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(retention, "retention");
    effects = List.copyOf(Objects.requireNonNull(effects, "effects"));
    if (retention.isZero() || retention.isNegative()) {
      throw new IllegalArgumentException("retention must be positive, but was " + retention);
    }
    if (outcome == RecordedOutcome.DEAD_LETTERED && !effects.isEmpty()) {
      throw new IllegalArgumentException("a DEAD_LETTERED completion cannot carry effects");
    }
  }

  public static Completion processed(byte @Nullable [] result, Duration retention) {
    return new Completion(RecordedOutcome.PROCESSED, result, retention, List.of());
  }

  public static Completion processed(
      byte @Nullable [] result, Duration retention, List<Effect> effects) {
    return new Completion(RecordedOutcome.PROCESSED, result, retention, effects);
  }

  public static Completion deadLettered(Duration retention) {
    return new Completion(RecordedOutcome.DEAD_LETTERED, null, retention, List.of());
  }
}
