package dev.onceflow.pipeline;

/**
 * Thrown (or signalled) by a handler for a failure that retrying cannot fix, such as a validation
 * error. The message is dead-lettered at once with reason {@code NON_RETRYABLE}.
 */
public class NonRetryableException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public NonRetryableException(String message) {
    super(message);
  }

  public NonRetryableException(String message, Throwable cause) {
    super(message, cause);
  }
}
