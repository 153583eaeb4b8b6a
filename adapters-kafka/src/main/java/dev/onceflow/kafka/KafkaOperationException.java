package dev.onceflow.kafka;

import dev.onceflow.core.BrokerOperationException;
import org.jspecify.annotations.Nullable;

/**
 * A Kafka operation of onceflow failed for good: a publish or dead letter the broker did not
 * acknowledge, or the check (or creation) of a dead-letter topic at start. Names the operation, the
 * topic and, for a message, its id; the Kafka client's exception is the cause.
 *
 * <p>A failed publish may still have reached the topic (publishing is at-least-once): retry with
 * the same message id, and consumers deduplicate.
 */
public final class KafkaOperationException extends BrokerOperationException {

  private static final long serialVersionUID = 1L;

  /** A record sent by {@link KafkaPublisher} or {@link KafkaDeadLetter}. */
  public static final String SEND = "send";

  /** The check that a dead-letter topic exists ({@link KafkaDeadLetter#ready()}). */
  public static final String CHECK_TOPIC = "check-topic";

  /** The creation of a missing dead-letter topic, when the options allow it. */
  public static final String CREATE_TOPIC = "create-topic";

  /**
   * For the adapter's own use.
   *
   * @param operation {@link #SEND}, {@link #CHECK_TOPIC} or {@link #CREATE_TOPIC}
   * @param topic the topic, the {@link #destination()}
   * @param messageId the message's id, or null when the operation is not about a message
   * @param detail what went wrong, appended to the message
   */
  public KafkaOperationException(
      String operation,
      String topic,
      @Nullable String messageId,
      String detail,
      @Nullable Throwable cause) {
    super(
        "Kafka "
            + operation
            + (messageId == null ? "" : " of message " + messageId)
            + " on topic '"
            + topic
            + "' failed: "
            + detail,
        operation,
        topic,
        messageId,
        cause);
  }
}
