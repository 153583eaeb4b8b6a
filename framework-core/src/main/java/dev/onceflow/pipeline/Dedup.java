package dev.onceflow.pipeline;

import dev.onceflow.core.Envelope;
import dev.onceflow.store.IdempotencyStore;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * How a pipeline deduplicates: the store, the key, lease and retention. Immutable; each method
 * returns a new instance.
 *
 * <ul>
 *   <li>{@link #byMessageId} – the envelope's message id is the key (the default strategy).
 *   <li>{@link #byKey} – a key computed from the envelope.
 *   <li>{@link #byEntityVersion} – version guard: per entity key the highest applied version is
 *       kept; a message with a lower or equal version is a stale duplicate.
 *   <li>{@link #byProducerSequence} – per producer id the highest contiguous sequence is kept (as
 *       Kafka's idempotent producer does with PID + sequence): O(producers) memory.
 * </ul>
 */
public final class Dedup {

  /** Default lease: 30 s, long enough for most handlers; heartbeats extend it. */
  public static final Duration DEFAULT_LEASE = Duration.ofSeconds(30);

  /** Default retention of records: 7 days, beyond Kafka's default log retention. */
  public static final Duration DEFAULT_RETENTION = Duration.ofDays(7);

  /** Default wait before an IN_PROGRESS key is tried again: 1 s. */
  public static final Duration DEFAULT_IN_PROGRESS_BACKOFF = Duration.ofSeconds(1);

  /** How a key is found. */
  public enum Strategy {
    MESSAGE_ID,
    CUSTOM_KEY,
    ENTITY_VERSION,
    PRODUCER_SEQUENCE
  }

  private final IdempotencyStore store;
  private final Strategy strategy;
  private final @Nullable Function<Envelope, @Nullable String> keyFunction;
  private final Duration lease;
  private final Duration retention;
  private final boolean fingerprint;
  private final MissingId missingId;
  private final Duration inProgressBackoff;

  private Dedup(
      IdempotencyStore store,
      Strategy strategy,
      @Nullable Function<Envelope, @Nullable String> keyFunction,
      Duration lease,
      Duration retention,
      boolean fingerprint,
      MissingId missingId,
      Duration inProgressBackoff) {
    this.store = store;
    this.strategy = strategy;
    this.keyFunction = keyFunction;
    this.lease = lease;
    this.retention = retention;
    this.fingerprint = fingerprint;
    this.missingId = missingId;
    this.inProgressBackoff = inProgressBackoff;
  }

  private static Dedup of(
      IdempotencyStore store,
      Strategy strategy,
      @Nullable Function<Envelope, @Nullable String> keyFunction) {
    Objects.requireNonNull(store, "store");
    return new Dedup(
        store,
        strategy,
        keyFunction,
        DEFAULT_LEASE,
        DEFAULT_RETENTION,
        true,
        MissingId.DEAD_LETTER,
        DEFAULT_IN_PROGRESS_BACKOFF);
  }

  /** The message id is the key. */
  public static Dedup byMessageId(IdempotencyStore store) {
    return of(store, Strategy.MESSAGE_ID, null);
  }

  /**
   * A key computed from the envelope; a null or blank key counts as a missing id. The function must
   * be deterministic: the same message must give the same key on every delivery.
   */
  public static Dedup byKey(IdempotencyStore store, Function<Envelope, @Nullable String> key) {
    return of(store, Strategy.CUSTOM_KEY, Objects.requireNonNull(key, "key"));
  }

  /**
   * Version guard: the key is the entity key, and a message whose version is not above the highest
   * completed one is a stale duplicate. A message without entity key or version is dead-lettered
   * with reason {@code MISSING_ID}.
   */
  public static Dedup byEntityVersion(IdempotencyStore store) {
    return of(store, Strategy.ENTITY_VERSION, null);
  }

  /**
   * Producer sequence: the key is the producer id; sequences complete in order, a sequence not
   * above the highest contiguous one is a duplicate, and one beyond a gap waits (IN_PROGRESS) until
   * the gap is filled. Use with {@link PipelineBuilder#orderedByKey()} over a source that keeps a
   * producer's order (a Kafka partition, a FIFO queue).
   */
  public static Dedup byProducerSequence(IdempotencyStore store) {
    return of(store, Strategy.PRODUCER_SEQUENCE, null);
  }

  /** How long a lease lives unless the heartbeat extends it. Default {@link #DEFAULT_LEASE}. */
  public Dedup lease(Duration lease) {
    Retries.requirePositive(lease, "lease");
    return new Dedup(
        store, strategy, keyFunction, lease, retention, fingerprint, missingId, inProgressBackoff);
  }

  /** How long completed records are kept. Default {@link #DEFAULT_RETENTION}. */
  public Dedup retain(Duration retention) {
    Retries.requirePositive(retention, "retention");
    return new Dedup(
        store, strategy, keyFunction, lease, retention, fingerprint, missingId, inProgressBackoff);
  }

  /**
   * Whether a payload fingerprint is recorded, so that a key reused with another payload is
   * dead-lettered as {@code KEY_REUSED}. Default true.
   */
  public Dedup fingerprint(boolean fingerprint) {
    return new Dedup(
        store, strategy, keyFunction, lease, retention, fingerprint, missingId, inProgressBackoff);
  }

  /** What to do with a message without id. Default {@link MissingId#DEAD_LETTER}. */
  public Dedup onMissingId(MissingId missingId) {
    Objects.requireNonNull(missingId, "missingId");
    return new Dedup(
        store, strategy, keyFunction, lease, retention, fingerprint, missingId, inProgressBackoff);
  }

  /**
   * How long a message whose key is leased by another holder waits before it is nacked for
   * redelivery. Default {@link #DEFAULT_IN_PROGRESS_BACKOFF}.
   */
  public Dedup inProgressBackoff(Duration backoff) {
    Retries.requirePositive(backoff, "inProgressBackoff");
    return new Dedup(
        store, strategy, keyFunction, lease, retention, fingerprint, missingId, backoff);
  }

  public IdempotencyStore store() {
    return store;
  }

  public Strategy strategy() {
    return strategy;
  }

  public @Nullable Function<Envelope, @Nullable String> keyFunction() {
    return keyFunction;
  }

  public Duration lease() {
    return lease;
  }

  public Duration retention() {
    return retention;
  }

  public boolean fingerprint() {
    return fingerprint;
  }

  public MissingId missingId() {
    return missingId;
  }

  public Duration inProgressBackoff() {
    return inProgressBackoff;
  }
}
