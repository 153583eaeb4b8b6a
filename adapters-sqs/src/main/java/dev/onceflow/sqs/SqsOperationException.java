package dev.onceflow.sqs;

import org.jspecify.annotations.Nullable;

/**
 * An SQS call failed for good for one message: a delete (ack), a visibility change (nack), a send
 * (publish, dead letter). Names the operation, the queue and the message, and carries SQS's error
 * code when SQS answered with one.
 */
public final class SqsOperationException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final String operation;
  private final String queue;
  private final @Nullable String messageId;
  private final @Nullable String errorCode;
  private final boolean senderFault;

  SqsOperationException(
      String operation,
      String queue,
      @Nullable String messageId,
      @Nullable String errorCode,
      boolean senderFault,
      String detail,
      @Nullable Throwable cause) {
    super(
        "SQS "
            + operation
            + " of message "
            + messageId
            + " on queue '"
            + queue
            + "' failed"
            + (errorCode == null ? "" : " with " + errorCode)
            + ": "
            + detail,
        cause);
    this.operation = operation;
    this.queue = queue;
    this.messageId = messageId;
    this.errorCode = errorCode;
    this.senderFault = senderFault;
  }

  /** {@code delete}, {@code change-visibility} or {@code send}. */
  public String operation() {
    return operation;
  }

  /** The queue's name. */
  public String queue() {
    return queue;
  }

  /** The SQS message id (delete, change-visibility) or the onceflow message id (send). */
  public @Nullable String messageId() {
    return messageId;
  }

  /** SQS's error code (e.g. {@code ReceiptHandleIsInvalid}), or null for a transport error. */
  public @Nullable String errorCode() {
    return errorCode;
  }

  /** Whether SQS blamed the request (retrying it unchanged cannot help). */
  public boolean senderFault() {
    return senderFault;
  }
}
