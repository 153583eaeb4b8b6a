package dev.onceflow.rabbitmq;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * How {@link RabbitSource} honours a positive delay in {@link
 * dev.onceflow.core.Delivery#nack(java.time.Duration)}. A zero delay always rejects with requeue
 * ({@code basic.nack(requeue=true)}) at once, whatever the strategy.
 *
 * <ul>
 *   <li>{@link #hold()} (the default): the delivery stays unacked on its channel for the delay,
 *       then is rejected with requeue (the nack's {@code Mono} completes at once, when the reject
 *       is scheduled). Needs no topology and no publisher confirms; the held delivery occupies one
 *       prefetch slot for the delay. If the consumer dies meanwhile the broker redelivers it at
 *       once (earlier than asked, never lost).
 *   <li>{@link #retryQueue()}: the message is republished, with its properties and headers, to a
 *       retry queue with a per-message TTL of the delay; the retry queue dead-letters expired
 *       messages back to the source queue through the default exchange. The original is acked only
 *       after the broker confirmed the republish, so a failure leaves it unacked (redelivered,
 *       never lost) and at worst duplicated. Frees the prefetch slot at once and survives consumer
 *       restarts, but RabbitMQ expires per-message TTLs only at the head of a queue: a long delay
 *       at the head holds back shorter ones behind it (a message is never redelivered
 *       <em>earlier</em> than asked). Needs a connection factory with correlated publisher confirms
 *       and the right to declare the retry queue.
 *   <li>{@link #immediate()}: the delay is ignored, the delivery is rejected with requeue at once.
 * </ul>
 */
public final class RedeliveryDelay {

  /** The suffix of the default retry queue's name: {@code <queue>.onceflow-retry}. */
  public static final String DEFAULT_RETRY_QUEUE_SUFFIX = ".onceflow-retry";

  enum Kind {
    IMMEDIATE,
    HOLD,
    RETRY_QUEUE
  }

  private static final RedeliveryDelay IMMEDIATE = new RedeliveryDelay(Kind.IMMEDIATE, null);
  private static final RedeliveryDelay HOLD = new RedeliveryDelay(Kind.HOLD, null);
  private static final RedeliveryDelay RETRY_DEFAULT = new RedeliveryDelay(Kind.RETRY_QUEUE, null);

  private final Kind kind;
  private final @Nullable String retryQueue;

  private RedeliveryDelay(Kind kind, @Nullable String retryQueue) {
    this.kind = kind;
    this.retryQueue = retryQueue;
  }

  /** Ignore the delay: reject with requeue at once. */
  public static RedeliveryDelay immediate() {
    return IMMEDIATE;
  }

  /** Keep the delivery unacked for the delay, then reject it with requeue. The default. */
  public static RedeliveryDelay hold() {
    return HOLD;
  }

  /** Republish through the retry queue {@code <queue>.onceflow-retry} (declared by the source). */
  public static RedeliveryDelay retryQueue() {
    return RETRY_DEFAULT;
  }

  /**
   * Republish through the named retry queue (declared by the source, see {@link #retryQueue()}).
   */
  public static RedeliveryDelay retryQueue(String queueName) {
    Objects.requireNonNull(queueName, "queueName");
    if (queueName.isBlank()) {
      throw new IllegalArgumentException(
          "`retryQueue` must not be blank, but was '" + queueName + "'");
    }
    return new RedeliveryDelay(Kind.RETRY_QUEUE, queueName);
  }

  Kind kind() {
    return kind;
  }

  /** The retry queue's name for a source queue, or null unless this is a retry-queue strategy. */
  @Nullable String retryQueueFor(String sourceQueue) {
    if (kind != Kind.RETRY_QUEUE) {
      return null;
    }
    return retryQueue != null ? retryQueue : sourceQueue + DEFAULT_RETRY_QUEUE_SUFFIX;
  }

  @Override
  public String toString() {
    return switch (kind) {
      case IMMEDIATE -> "RedeliveryDelay.immediate()";
      case HOLD -> "RedeliveryDelay.hold()";
      case RETRY_QUEUE ->
          retryQueue == null
              ? "RedeliveryDelay.retryQueue()"
              : "RedeliveryDelay.retryQueue(" + retryQueue + ")";
    };
  }
}
