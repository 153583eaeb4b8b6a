package dev.onceflow.store;

/** The outcome a key's record holds. */
public enum RecordedOutcome {
  /** The handler succeeded; the record may cache its result. */
  PROCESSED,
  /** The message failed for good and was dead-lettered; a redrive may take the key again. */
  DEAD_LETTERED
}
