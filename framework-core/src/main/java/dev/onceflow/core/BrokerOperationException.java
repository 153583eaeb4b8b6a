package dev.onceflow.core;

import org.jspecify.annotations.Nullable;

/**
 * A broker operation of an adapter failed for good: a publish, a settlement, the check of a
 * destination. Each adapter has exactly one subclass ({@code KafkaOperationException}, {@code
 * RabbitOperationException}, {@code SqsOperationException}) with the broker's own operation names
 * and details; this type lets code that serves every broker read the common part.
 *
 * <p>The message names the operation, the destination and, where there is one, the message id.
 */
public abstract class BrokerOperationException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final String operation;
  private final String destination;
  private final @Nullable String messageId;

  /**
   * @param message the exception's message, naming operation, destination and message
   * @param operation the broker operation, one of the subclass's constants
   * @param destination the topic, queue or exchange
   * @param messageId the message's id, or null when the operation is not about one message
   */
  protected BrokerOperationException(
      String message,
      String operation,
      String destination,
      @Nullable String messageId,
      @Nullable Throwable cause) {
    super(message, cause);
    this.operation = operation;
    this.destination = destination;
    this.messageId = messageId;
  }

  /** The broker operation that failed, one of the subclass's constants (such as {@code send}). */
  public String operation() {
    return operation;
  }

  /** The topic, queue or exchange the operation was about. */
  public String destination() {
    return destination;
  }

  /** The message's id, or null when the operation is not about one message. */
  public @Nullable String messageId() {
    return messageId;
  }
}
