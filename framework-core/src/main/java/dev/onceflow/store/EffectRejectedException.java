package dev.onceflow.store;

/**
 * A store cannot apply an {@link Effect} atomically with the record (for example a Redis Cluster
 * key outside the message key's hash slot). Nothing was written: neither the effect nor the record.
 * This is a programming error, not an outage: the pipeline treats it as non-retryable.
 */
public class EffectRejectedException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  public EffectRejectedException(String message) {
    super(message);
  }
}
