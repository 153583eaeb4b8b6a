package dev.onceflow.outcome;

import dev.onceflow.core.Envelope;
import dev.onceflow.deadletter.DeadLetter;
import dev.onceflow.store.RecordedOutcome;
import org.jspecify.annotations.Nullable;

/**
 * Receives the steps of every delivery as they happen, for event logs, audits, tracing and fault
 * injection tests. Every method has an empty default; implement those you need.
 *
 * <p>Threading: methods are called on the pipeline's threads, concurrently for different deliveries
 * and in order for one delivery; they must be fast and must not block. A listener that throws is
 * logged and otherwise ignored: it never changes what the pipeline does.
 *
 * <p>Order for one delivery: {@code delivered}, then (with deduplication) {@code acquired}, then
 * for each handler attempt {@code handlerStarted} and {@code handlerFinished}, then {@code
 * deadLettered} (when it fails for good and the dead letter was accepted), then {@code recorded}
 * (the store wrote the outcome), then {@code settled} once the ack or nack returned. A duplicate
 * goes from {@code delivered} straight to {@code settled}.
 */
public interface PipelineListener {

  /** A listener that does nothing. */
  PipelineListener NONE = new PipelineListener() {};

  /** The source emitted a delivery. */
  default void delivered(Envelope envelope) {}

  /** The store granted a lease on {@code key} with fencing number {@code fence}. */
  default void acquired(Envelope envelope, String key, long fence) {}

  /** The handler is called, attempt {@code attempt} (from 1), under {@code fence}. */
  default void handlerStarted(Envelope envelope, String key, long fence, int attempt) {}

  /** The handler returned: {@code failure} is null on success. */
  default void handlerFinished(
      Envelope envelope, String key, long fence, int attempt, @Nullable Throwable failure) {}

  /** The dead-letter destination accepted {@code deadLetter}. */
  default void deadLettered(Envelope envelope, DeadLetter deadLetter) {}

  /** The store recorded {@code outcome} for {@code key} under {@code fence}. */
  default void recorded(Envelope envelope, String key, long fence, RecordedOutcome outcome) {}

  /**
   * The delivery was settled: acked (processed, duplicate, dead-lettered) or nacked, and the broker
   * call returned.
   */
  default void settled(Outcome<?> outcome) {}
}
