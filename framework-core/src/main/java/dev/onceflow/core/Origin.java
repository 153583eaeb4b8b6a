package dev.onceflow.core;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Where a delivery came from, in the broker's own coordinates.
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

  /** A Kafka origin: topic, partition and offset. */
  public static Origin kafka(String topic, int partition, long offset) {
    return new Origin(BrokerKind.KAFKA, topic, partition, offset, null, null, false, 0);
  }

  /** A short, log-safe description such as {@code kafka:orders/3@1042}. */
  public String describe() {
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
