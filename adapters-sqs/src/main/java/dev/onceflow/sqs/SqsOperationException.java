package dev.onceflow.sqs;

import dev.onceflow.core.BrokerOperationException;
import org.jspecify.annotations.Nullable;

/**
 * An SQS call of onceflow failed for good: a delete (ack), a visibility change (nack), a send
 * (publish, dead letter), a receive, or the lookup, check or creation of a queue. Names the
 * operation, the queue and the message, and carries SQS's error code when SQS answered with one.
 *
 * <p>Nothing is lost by these failures: a message whose delete failed is delivered again, and a
 * failed send may still have arrived (retry with the same message id; consumers deduplicate).
 */
public final class SqsOperationException extends BrokerOperationException {

  private static final long serialVersionUID = 1L;

  /** {@code SendMessage} or {@code SendMessageBatch}: a publish or a dead letter. */
  public static final String SEND = "send";

  /** {@code DeleteMessageBatch}: an ack. */
  public static final String DELETE = "delete";

  /** {@code ChangeMessageVisibility}: a nack. */
  public static final String CHANGE_VISIBILITY = "change-visibility";

  /** {@code ReceiveMessage}. */
  public static final String RECEIVE = "receive";

  /** {@code GetQueueUrl} of a queue given by name. */
  public static final String GET_QUEUE_URL = "get-queue-url";

  /** The check that a dead-letter queue exists ({@link SqsDeadLetter#ready()}). */
  public static final String CHECK_QUEUE = "check-queue";

  /** {@code CreateQueue} of a missing dead-letter queue, when the options allow it. */
  public static final String CREATE_QUEUE = "create-queue";

  private final @Nullable String errorCode;
  private final boolean senderFault;

  /**
   * For the adapter's own use.
   *
   * @param operation one of the constants of this class
   * @param destination the queue's name, the {@link #destination()}
   * @param messageId the SQS message id (delete, change-visibility) or the onceflow message id
   *     (send), or null
   * @param errorCode SQS's error code, or null
   * @param senderFault whether SQS blamed the request
   * @param detail what went wrong, appended to the message
   */
  public SqsOperationException(
      String operation,
      String destination,
      @Nullable String messageId,
      @Nullable String errorCode,
      boolean senderFault,
      String detail,
      @Nullable Throwable cause) {
    super(
        "SQS "
            + operation
            + (messageId == null ? "" : " of message " + messageId)
            + " on queue '"
            + destination
            + "' failed"
            + (errorCode == null ? "" : " with " + errorCode)
            + ": "
            + detail,
        operation,
        destination,
        messageId,
        cause);
    this.errorCode = errorCode;
    this.senderFault = senderFault;
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
