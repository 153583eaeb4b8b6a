package dev.onceflow.kafka;

import org.jspecify.annotations.Nullable;

/**
 * A Kafka operation of onceflow failed for good: a publish or dead letter the broker did not
 * acknowledge, or the check (or creation) of a dead-letter topic at start. Names the operation, the
 * topic and, for a message, its id; the Kafka client's exception is the cause.
 *
 * <p>A failed publish may still have reached the topic (publishing is at-least-once): retry with
 * the same message id, and consumers deduplicate.
 */
public final class KafkaOperationException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** A record sent by {@link KafkaPublisher} or {@link KafkaDeadLetter}. */
  public static final String SEND = "send";

  /** The check that a dead-letter topic exists ({@link KafkaDeadLetter#ready()}). */
  public static final String CHECK_TOPIC = "check-topic";

  /** The creation of a missing dead-letter topic, when the options allow it. */
  public static final String CREATE_TOPIC = "create-topic";

  private final String operation;
  private final String destination;
  private final @Nullable String messageId;

  /**
   * For the adapter's own use.
   *
   * @param operation {@link #SEND}, {@link #CHECK_TOPIC} or {@link #CREATE_TOPIC}
   * @param destination the topic
   * @param messageId the message's id, or null when the operation is not about a message
   * @param detail what went wrong, appended to the message
   */
  public KafkaOperationException(
      String operation,
      String destination,
      @Nullable String messageId,
      String detail,
      @Nullable Throwable cause) {
    super(
        "Kafka "
            + operation
            + (messageId == null ? "" : " of message " + messageId)
            + " on topic '"
            + destination
            + "' failed: "
            + detail,
        cause);
    this.operation = operation;
    this.destination = destination;
    this.messageId = messageId;
  }

  /** {@link #SEND}, {@link #CHECK_TOPIC} or {@link #CREATE_TOPIC}. */
  public String operation() {
    return operation;
  }

  /** The topic. */
  public String destination() {
    return destination;
  }

  /** The onceflow message id of the record, or null when the operation is not about a message. */
  public @Nullable String messageId() {
    return messageId;
  }
}
