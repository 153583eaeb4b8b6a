package dev.onceflow.deadletter;

/** Why a message was dead-lettered. Stable codes: they travel in headers and metric tags. */
public enum DeadLetterReason {
  /** The handler failed on every attempt while the circuit breaker was closed. */
  HANDLER_FAILED,
  /** The handler failed with an error classified as not retryable. */
  NON_RETRYABLE,
  /** The payload or the convention headers could not be decoded. */
  DECODE_FAILED,
  /** The message had no id and the pipeline was told not to derive one. */
  MISSING_ID,
  /** A recorded outcome exists for the key with another payload: the key was reused. */
  KEY_REUSED,
  /**
   * No usable key could be made: the key function or the fingerprint function threw, the key is
   * longer than the limit, or a producer sequence is below the producer's first number.
   */
  INVALID_KEY
}
