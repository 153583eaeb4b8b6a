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
