package dev.onceflow.store;

/**
 * The store could not answer: unreachable, timed out, or failed. The pipeline treats it as
 * "unknown" and fails closed: the delivery is nacked, never acked, and its handler does not run.
 * Stores wrap their client's errors in it (or a subclass).
 */
public class StoreException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  public StoreException(String message, Throwable cause) {
    super(message, cause);
  }

  public StoreException(String message) {
    super(message);
  }
}
