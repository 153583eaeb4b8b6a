package dev.onceflow.pipeline;

import dev.onceflow.core.Envelope;
import dev.onceflow.store.IdempotencyStore;
import java.time.Duration;
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
 *
 * <p>The message id is the message's identity: a re-send with the same id is a duplicate even when
 * its body differs (producers stamp retry counters and timestamps into bodies). To have "same id,
 * other content" dead-lettered as {@code KEY_REUSED}, opt in with {@link #fingerprint(Function)}
 * over the part of the payload that matters.
 */
public final class Dedup {

  /** Default lease: 30 s, long enough for most handlers; heartbeats extend it. */
  public static final Duration DEFAULT_LEASE = Duration.ofSeconds(30);

  /** Default retention of records: 7 days, beyond Kafka's default log retention. */
  public static final Duration DEFAULT_RETENTION = Duration.ofDays(7);

  /** Default wait before an IN_PROGRESS key is tried again: 1 s. */
  public static final Duration DEFAULT_IN_PROGRESS_BACKOFF = Duration.ofSeconds(1);

  /** Default longest key, in UTF-8 bytes: 1 KiB (a longer one is dead-lettered INVALID_KEY). */
  public static final int DEFAULT_MAX_KEY_BYTES = 1024;

  /** Default first sequence number of a producer: 1, as Kafka's idempotent producer. */
  public static final long DEFAULT_FIRST_SEQUENCE = 1;

  /**
   * Default gap timeout of producer sequences: 2 min, Kafka's default {@code delivery.timeout.ms}
   * (a record its producer has not delivered by then will not be delivered).
   */
  public static final Duration DEFAULT_GAP_TIMEOUT = Duration.ofMinutes(2);

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
  private Duration lease = DEFAULT_LEASE;
  private Duration retention = DEFAULT_RETENTION;
  private @Nullable Function<Envelope, byte[]> fingerprint;
  private MissingId missingId = MissingId.DEAD_LETTER;
  private Duration inProgressBackoff = DEFAULT_IN_PROGRESS_BACKOFF;
  private int maxKeyBytes = DEFAULT_MAX_KEY_BYTES;
  private long firstSequence = DEFAULT_FIRST_SEQUENCE;
  private @Nullable Duration gapTimeout = DEFAULT_GAP_TIMEOUT;

  private Dedup(
      IdempotencyStore store,
      Strategy strategy,
      @Nullable Function<Envelope, @Nullable String> keyFunction) {
    this.store = Retries.required(store, "store");
    this.strategy = strategy;
    this.keyFunction = keyFunction;
  }

  private Dedup copy() {
    Dedup d = new Dedup(store, strategy, keyFunction);
    d.lease = lease;
    d.retention = retention;
    d.fingerprint = fingerprint;
    d.missingId = missingId;
    d.inProgressBackoff = inProgressBackoff;
    d.maxKeyBytes = maxKeyBytes;
    d.firstSequence = firstSequence;
    d.gapTimeout = gapTimeout;
    return d;
  }

  /** The message id is the key. */
  public static Dedup byMessageId(IdempotencyStore store) {
    return new Dedup(store, Strategy.MESSAGE_ID, null);
  }

  /**
   * A key computed from the envelope; a null or blank key counts as a missing id, and a function
   * that throws dead-letters that message ({@code INVALID_KEY}). The function must be
   * deterministic: the same message must give the same key on every delivery.
   */
  public static Dedup byKey(IdempotencyStore store, Function<Envelope, @Nullable String> key) {
    return new Dedup(store, Strategy.CUSTOM_KEY, Retries.required(key, "key"));
  }

  /**
   * Version guard: the key is the entity key, and a message whose version is not above the highest
   * completed one is a stale duplicate. A message without entity key or version is dead-lettered
   * with reason {@code MISSING_ID}.
   */
  public static Dedup byEntityVersion(IdempotencyStore store) {
    return new Dedup(store, Strategy.ENTITY_VERSION, null);
  }

  /**
   * Producer sequence: the key is the producer id; a producer's sequences complete in order from
   * its {@link #firstSequence(long) first number}; a sequence not above the highest contiguous one
   * is a duplicate, and one beyond a gap waits (IN_PROGRESS) until the gap is filled or {@link
   * #gapTimeout(Duration) times out}. A dead-lettered sequence counts as done. Use with {@link
   * PipelineBuilder#orderedByKey()} over a source that keeps a producer's order (a Kafka partition,
   * a FIFO queue).
   */
  public static Dedup byProducerSequence(IdempotencyStore store) {
    return new Dedup(store, Strategy.PRODUCER_SEQUENCE, null);
  }

  /** How long a lease lives unless the heartbeat extends it. Default {@link #DEFAULT_LEASE}. */
  public Dedup lease(Duration lease) {
    Retries.requirePositive(lease, "lease");
    Dedup d = copy();
    d.lease = lease;
    return d;
  }

  /** How long completed records are kept. Default {@link #DEFAULT_RETENTION}. */
  public Dedup retain(Duration retention) {
    Retries.requirePositive(retention, "retention");
    Dedup d = copy();
    d.retention = retention;
    return d;
  }

  /**
   * Records a fingerprint of the whole payload with each outcome, so that a key reused with another
   * payload is dead-lettered as {@code KEY_REUSED}. Default false: the id is the identity, and
   * re-sends whose body differs (a retry counter, a timestamp) are duplicates. Prefer {@link
   * #fingerprint(Function)} over the part of the payload that matters.
   */
  public Dedup fingerprint(boolean fingerprint) {
    Dedup d = copy();
    d.fingerprint = fingerprint ? Dedup::payload : null;
    return d;
  }

  /**
   * Records a fingerprint of {@code projection}'s bytes (for example the fields of the payload that
   * make a message what it is) with each outcome: a key whose record has another fingerprint is
   * dead-lettered as {@code KEY_REUSED}. A projection that throws dead-letters that message ({@code
   * INVALID_KEY}). Without it no fingerprint is computed.
   */
  public Dedup fingerprint(Function<Envelope, byte[]> projection) {
    Dedup d = copy();
    d.fingerprint = Retries.required(projection, "projection");
    return d;
  }

  private static byte[] payload(Envelope e) {
    return e.payload();
  }

  /** What to do with a message without id. Default {@link MissingId#DEAD_LETTER}. */
  public Dedup onMissingId(MissingId missingId) {
    Dedup d = copy();
    d.missingId = Retries.required(missingId, "missingId");
    return d;
  }

  /**
   * How long a message whose key is leased by another holder waits before it is nacked for
   * redelivery. Default {@link #DEFAULT_IN_PROGRESS_BACKOFF}.
   */
  public Dedup inProgressBackoff(Duration backoff) {
    Retries.requirePositive(backoff, "inProgressBackoff");
    Dedup d = copy();
    d.inProgressBackoff = backoff;
    return d;
  }

  /**
   * The longest key, in UTF-8 bytes; a longer one is dead-lettered with reason {@code INVALID_KEY}.
   * Between 16 and 65536; default {@link #DEFAULT_MAX_KEY_BYTES}.
   */
  public Dedup maxKeyBytes(int maxKeyBytes) {
    if (maxKeyBytes < 16 || maxKeyBytes > 65_536) {
      throw new IllegalArgumentException(
          "maxKeyBytes must be between 16 and 65536, but was " + maxKeyBytes);
    }
    Dedup d = copy();
    d.maxKeyBytes = maxKeyBytes;
    return d;
  }

  /**
   * The first sequence number of a producer seen for the first time: later numbers wait for it.
   * Default {@link #DEFAULT_FIRST_SEQUENCE}. Only for {@link #byProducerSequence}.
   */
  public Dedup firstSequence(long first) {
    if (first < 0) {
      throw new IllegalArgumentException("firstSequence must not be negative, but was " + first);
    }
    Dedup d = copy();
    d.firstSequence = first;
    return d;
  }

  /**
   * How long a gap in a producer's sequence may hold later numbers before the missing numbers are
   * given up (counted in {@code onceflow.sequence.gaps} and logged); {@code null} waits for ever.
   * Default {@link #DEFAULT_GAP_TIMEOUT}. Only for {@link #byProducerSequence}.
   */
  public Dedup gapTimeout(@Nullable Duration gapTimeout) {
    if (gapTimeout != null) {
      Retries.requirePositive(gapTimeout, "gapTimeout");
    }
    Dedup d = copy();
    d.gapTimeout = gapTimeout;
    return d;
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

  /** Whether a fingerprint is recorded. */
  public boolean fingerprint() {
    return fingerprint != null;
  }

  public @Nullable Function<Envelope, byte[]> fingerprintFunction() {
    return fingerprint;
  }

  public MissingId missingId() {
    return missingId;
  }

  public Duration inProgressBackoff() {
    return inProgressBackoff;
  }

  public int maxKeyBytes() {
    return maxKeyBytes;
  }

  public long firstSequence() {
    return firstSequence;
  }

  public @Nullable Duration gapTimeout() {
    return gapTimeout;
  }
}
