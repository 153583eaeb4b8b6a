package dev.onceflow.store;

import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A key's recorded outcome, kept for the retention window.
 *
 * @param outcome what happened
 * @param result the cached result bytes, or null
 * @param completedAt when the record was written, on the store's clock
 * @param fence the fence of the lease that wrote it
 * @param fingerprint the payload fingerprint of the message that wrote it, or null
 * @param guardValue the highest guard value completed under the key, or null
 */
public record OutcomeRecord(
    RecordedOutcome outcome,
    byte @Nullable [] result,
    Instant completedAt,
    long fence,
    @Nullable String fingerprint,
    @Nullable Long guardValue) {

  public OutcomeRecord {
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(completedAt, "completedAt");
  }
}
