package dev.onceflow.outcome;

import dev.onceflow.core.Envelope;
import dev.onceflow.deadletter.DeadLetter;
import org.jspecify.annotations.Nullable;

/**
 * How one delivery ended: exactly one of processed, duplicate, dead-lettered or nacked. There is no
 * fifth way out.
 */
public sealed interface Outcome<R> {

  Envelope envelope();

  /** The deduplication key, or null when the message had none. */
  @Nullable String key();

  /** The handler ran to success, the outcome was recorded, then the delivery was acked. */
  record Processed<R>(Envelope envelope, String key, long fence, @Nullable R result, int attempts)
      implements Outcome<R> {}

  /**
   * The key already had a recorded outcome: acked without running the handler. {@code cachedResult}
   * is the first run's result when a result codec was configured.
   */
  record Duplicate<R>(Envelope envelope, String key, @Nullable R cachedResult)
      implements Outcome<R> {}

  /** The message failed for good; the dead letter was accepted, then the delivery acked. */
  record DeadLettered<R>(Envelope envelope, @Nullable String key, DeadLetter deadLetter)
      implements Outcome<R> {}

  /** Not acked; the broker will deliver it again. */
  record Nacked<R>(
      Envelope envelope, @Nullable String key, NackReason reason, @Nullable Throwable cause)
      implements Outcome<R> {}
}
