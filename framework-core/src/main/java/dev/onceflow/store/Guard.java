package dev.onceflow.store;

import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A monotonic guard on a key, for the version-guard and producer-sequence strategies: the store
 * keeps the highest value completed under the key (processed or dead-lettered) and answers {@link
 * AcquireResult.Completed} (a stale duplicate) for any value lower than or equal to it; a redrive
 * of the highest value whose record is DEAD_LETTERED is granted again.
 *
 * <p>A <em>contiguous</em> guard (producer sequences) grants only the next number: {@code first}
 * for a key the store has no state of, then {@code highest + 1}. A number further ahead answers
 * {@link AcquireResult.InProgress} until the gap is filled, so that sequence numbers complete in
 * order and a transient failure of an early number cannot make it look like a duplicate. When
 * {@code gapTimeout} is set and a gap has made later numbers wait that long, the store gives the
 * missing numbers up: it grants the lowest waiting number and reports how many it skipped ({@link
 * AcquireResult.Acquired#skipped()}), so that a producer whose message was lost before the broker
 * does not wedge its sequence forever.
 *
 * @param value the message's version or sequence number
 * @param contiguous true for producer sequences (see above)
 * @param first the first number of a contiguous sequence (1 for onceflow's publishers)
 * @param gapTimeout how long a gap may hold later numbers before it is skipped, or null to wait for
 *     ever; only for contiguous guards
 */
public record Guard(long value, boolean contiguous, long first, @Nullable Duration gapTimeout) {

  /** The first sequence number of onceflow's publishers: 1, as Kafka's idempotent producer. */
  public static final long DEFAULT_FIRST = 1;

  public Guard {
    if (gapTimeout != null) {
      Objects.requireNonNull(gapTimeout, "gapTimeout");
      if (!contiguous) {
        throw new IllegalArgumentException("gapTimeout applies to contiguous guards only");
      }
      if (gapTimeout.isZero() || gapTimeout.isNegative()) {
        throw new IllegalArgumentException("gapTimeout must be positive, but was " + gapTimeout);
      }
    }
  }

  /** A guard whose contiguous sequences start at {@link #DEFAULT_FIRST} and never skip gaps. */
  public Guard(long value, boolean contiguous) {
    this(value, contiguous, DEFAULT_FIRST, null);
  }

  public static Guard version(long version) {
    return new Guard(version, false);
  }

  /** A contiguous sequence starting at 1 that waits for every gap to be filled. */
  public static Guard sequence(long sequence) {
    return new Guard(sequence, true);
  }

  /**
   * A contiguous sequence starting at {@code first}, skipping gaps older than {@code gapTimeout}.
   */
  public static Guard sequence(long sequence, long first, @Nullable Duration gapTimeout) {
    return new Guard(sequence, true, first, gapTimeout);
  }
}
