package dev.onceflow.store;

import java.time.Duration;
import reactor.core.publisher.Mono;

/**
 * Where a pipeline records which keys it has processed, and leases keys while it processes them.
 *
 * <p>The contract every store keeps (each point is a way to lose or double a message if broken):
 *
 * <ul>
 *   <li>{@code acquire}, {@code complete}, {@code release} and {@code extend} are atomic and
 *       linearizable. {@code acquire} answers in one round trip and never grants a key that has a
 *       record (except to a redrive, over a {@link RecordedOutcome#DEAD_LETTERED} record). {@code
 *       complete} writes the record, applies the effects and ends the lease in one step.
 *   <li>Tokens are unique per grant. The fence is monotonic per key across lease expiry: it lives
 *       as long as the key's record or lease, not only as long as one lease.
 *   <li>Leases always expire. Records expire after their retention.
 *   <li>{@link AcquireResult.Conflict} is answered only against a recorded outcome; against a live
 *       lease the answer is {@link AcquireResult.InProgress} whatever the fingerprint.
 *   <li>{@code complete}, {@code release} and {@code extend} are compare-and-set on the token: they
 *       emit {@code false} (and change nothing) when the token no longer owns the key (expired and
 *       taken over, or already completed or released).
 *   <li>Failures are signalled as {@link StoreException}: the caller cannot tell whether the
 *       operation happened and must not ack.
 *   <li><b>A timed-out call may have been applied.</b> When a call times out or is cancelled after
 *       it may have reached the server, the store itself cleans up what it may have granted: once
 *       the server answers again it releases, by compare-and-set on the token it sent, the lease an
 *       unanswered {@code acquire} may hold, so that an outage never strands a key for a whole
 *       lease.
 *   <li>Transactional effects are all or nothing: {@code complete} checks every effect before it
 *       writes anything (types, integers, overflow); when one cannot apply it signals {@link
 *       EffectRejectedException}, writes neither effects nor record and leaves the lease as it was.
 *       Other completions, even of the same batch, are not affected.
 *   <li>Guards ({@link Guard}) keep the highest value completed under a key, processed or
 *       dead-lettered; a contiguous guard grants its first number to a key without state and skips
 *       a gap only after the guard's gap timeout, reporting how many numbers it skipped.
 * </ul>
 *
 * <p>All methods are non-blocking and build their command per subscription, so a re-subscription
 * re-sends it.
 */
public interface IdempotencyStore {

  /** Asks for a lease on a key; see {@link AcquireResult} for the four answers. */
  Mono<AcquireResult> acquire(AcquireRequest request);

  /**
   * Records the outcome, applies the completion's effects and ends the lease, in one atomic step,
   * if the lease is still current.
   *
   * @return true when written; false when the lease was lost (nothing written)
   */
  Mono<Boolean> complete(Lease lease, Completion completion);

  /**
   * Ends the lease without a record, so that the key can be acquired again at once.
   *
   * @return true when released; false when the lease was no longer current
   */
  Mono<Boolean> release(Lease lease);

  /**
   * Moves the lease's expiry to now + {@code ttl}, if the lease is still current.
   *
   * @return true when extended; false when the lease was lost
   */
  Mono<Boolean> extend(Lease lease, Duration ttl);

  /** The record of a key, or empty when there is none. For tools such as redrive. */
  Mono<OutcomeRecord> find(String namespace, String key);
}
