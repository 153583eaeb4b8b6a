package dev.onceflow.outcome;

/** Why a delivery was not acked (and so will be redelivered by the broker). */
public enum NackReason {
  /** Another holder's lease on the key is live. */
  IN_PROGRESS,
  /** The store did not answer; the pipeline failed closed. */
  STORE_UNAVAILABLE,
  /** The lease expired and was taken over; the completion was rejected. */
  LEASE_LOST,
  /** The dead-letter destination did not accept the dead letter; the lease was released. */
  DEAD_LETTER_FAILED,
  /**
   * The circuit breaker stayed open and this message kept failing its half-open probes while no
   * other message succeeded: it gave its place up (its lease was released, none of its attempts
   * used) so that another message probes next.
   */
  BREAKER_OPEN,
  /** The pipeline stopped before the delivery finished; its lease was released. */
  STOPPED,
  /**
   * An unexpected error outside every stage (a bug in the pipeline or in an adapter's delivery),
   * logged at ERROR; the lease was released and the broker redelivers.
   */
  UNEXPECTED_ERROR
}
