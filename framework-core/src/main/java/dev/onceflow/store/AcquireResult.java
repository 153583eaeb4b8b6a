package dev.onceflow.store;

import java.time.Instant;
import java.util.Objects;

/** The answer of {@link IdempotencyStore#acquire(AcquireRequest)}: exactly one of four. */
public sealed interface AcquireResult {

  /**
   * The key is yours: run the handler, then complete or release the lease.
   *
   * @param lease the lease
   * @param skipped under a contiguous {@link Guard}: how many sequence numbers before this one were
   *     given up because the gap outlived the guard's {@link Guard#gapTimeout()}; 0 otherwise
   */
  record Acquired(Lease lease, long skipped) implements AcquireResult {
    public Acquired {
      Objects.requireNonNull(lease, "lease");
      if (skipped < 0) {
        throw new IllegalArgumentException("skipped must not be negative, but was " + skipped);
      }
    }

    public Acquired(Lease lease) {
      this(lease, 0);
    }
  }

  /**
   * The key has a recorded outcome (or, under a guard, a higher or equal value was completed): a
   * duplicate. Ack it without running the handler.
   */
  record Completed(OutcomeRecord record) implements AcquireResult {
    public Completed {
      Objects.requireNonNull(record, "record");
    }
  }

  /**
   * Another holder's lease is live (whatever the fingerprint), or a contiguous guard waits for an
   * earlier value: defer. Never ack, never run.
   */
  record InProgress(Instant leaseExpiresAt) implements AcquireResult {
    public InProgress {
      Objects.requireNonNull(leaseExpiresAt, "leaseExpiresAt");
    }
  }

  /**
   * A <em>recorded</em> outcome exists for the key with another payload fingerprint: the key was
   * reused for a different message. Never answered against a live lease.
   */
  record Conflict(OutcomeRecord record, String requestedFingerprint) implements AcquireResult {
    public Conflict {
      Objects.requireNonNull(record, "record");
      Objects.requireNonNull(requestedFingerprint, "requestedFingerprint");
    }
  }
}
