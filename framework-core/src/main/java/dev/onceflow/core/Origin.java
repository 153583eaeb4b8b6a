package dev.onceflow.core;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Where a delivery came from, in the broker's own coordinates.
 *
 * <p>A message built to be published has not been received from anywhere: its origin is {@link
 * #notReceived()} (broker {@link BrokerKind#NONE}), which is what {@link Envelope.Builder} uses
 * when no origin is set. Sources always set a real origin; publishers ignore the origin.
 *
 * @param broker the kind of broker
 * @param destination the topic (Kafka) or queue (RabbitMQ, SQS, in-memory)
 * @param partition the Kafka partition, or -1 where the broker has none
 * @param offset the Kafka offset or the in-memory sequence, or -1 where the broker has none
 * @param brokerMessageId the broker's own id of the delivery (SQS message id), or null
 * @param receipt the handle the broker needs to settle the delivery (RabbitMQ delivery tag, SQS
 *     receipt handle), or null
 * @param redelivered whether the broker flagged the delivery as a redelivery
 * @param attempt the delivery attempt as the broker tells it (1 for the first delivery; SQS
 *     ApproximateReceiveCount, RabbitMQ x-delivery-count), or 0 when the broker does not tell
 */
public record Origin(
    BrokerKind broker,
    String destination,
    int partition,
    long offset,
    @Nullable String brokerMessageId,
    @Nullable String receipt,
    boolean redelivered,
    int attempt) {

  public Origin {
    Objects.requireNonNull(broker, "broker");
    Objects.requireNonNull(destination, "destination");
    if (attempt < 0) {
      throw new IllegalArgumentException("attempt must be >= 0, but was " + attempt);
    }
  }

  private static final Origin NOT_RECEIVED =
      new Origin(BrokerKind.NONE, "", -1, -1, null, null, false, 0);

  /**
   * The origin of a message that no broker delivered (one built to be published): broker {@link
   * BrokerKind#NONE}, an empty destination, no coordinates, attempt 0.
   */
  public static Origin notReceived() {
    return NOT_RECEIVED;
  }

  /** Whether a broker delivered the message: false only for {@link #notReceived()}. */
  public boolean received() {
    return broker != BrokerKind.NONE;
  }

  /** A Kafka origin: topic, partition and offset. */
  public static Origin kafka(String topic, int partition, long offset) {
    return new Origin(BrokerKind.KAFKA, topic, partition, offset, null, null, false, 0);
  }

  /** A short, log-safe description such as {@code kafka:orders/3@1042}, or {@code not-received}. */
  public String describe() {
    if (!received()) {
      return "not-received";
    }
    StringBuilder sb =
        new StringBuilder(broker.name().toLowerCase()).append(':').append(destination);
    if (partition >= 0) {
      sb.append('/').append(partition);
    }
    if (offset >= 0) {
      sb.append('@').append(offset);
    }
    if (brokerMessageId != null) {
      sb.append('#').append(brokerMessageId);
    }
    return sb.toString();
  }
}
