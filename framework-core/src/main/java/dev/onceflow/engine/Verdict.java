package dev.onceflow.engine;

import dev.onceflow.deadletter.DeadLetter;
import dev.onceflow.outcome.NackReason;
import dev.onceflow.outcome.Outcome;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * What a stage decided for one delivery; {@link Settlement} carries it out. A stage never acks,
 * nacks, releases or dead-letters by itself.
 */
sealed interface Verdict {

  /** The outcome is recorded (or needs no record): ack, then report {@code outcome}. */
  record Ack(Outcome<Object> outcome) implements Verdict {}

  /** Not acked: release the lease if one is held, then nack for redelivery after {@code delay}. */
  record Nack(NackReason reason, @Nullable Throwable cause, Duration delay) implements Verdict {}

  /**
   * The message failed for good: publish the dead letter, record DEAD_LETTERED when a lease is
   * held, then ack; if the dead letter is refused, release and nack.
   */
  record DeadLetterIt(DeadLetter deadLetter) implements Verdict {}

  static Verdict nack(NackReason reason, @Nullable Throwable cause) {
    return new Nack(reason, cause, Duration.ZERO);
  }
}
