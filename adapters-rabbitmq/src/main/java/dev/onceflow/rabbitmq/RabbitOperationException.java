package dev.onceflow.rabbitmq;

import dev.onceflow.core.BrokerOperationException;
import org.jspecify.annotations.Nullable;

/**
 * A RabbitMQ operation of onceflow failed: a publish the broker did not confirm (nacked, returned
 * as unroutable, no confirm in time, or the connection failed), a settlement (ack, reject, requeue)
 * on a channel that is gone, or the check or declaration of a queue or exchange. Names the
 * operation, the destination and, for a message, its id. The {@link #destination()} is the queue
 * (settlements, queue checks), the exchange (exchange checks, publishes to a named exchange) or the
 * routing key (publishes to the default exchange, where it names the queue).
 *
 * <p>Nothing is lost by these failures: a publish may or may not have reached a queue (publishing
 * is at-least-once, so retry with the same id), and the broker requeues every unacked delivery of a
 * closed channel and delivers it again.
 */
public final class RabbitOperationException extends BrokerOperationException {

  private static final long serialVersionUID = 1L;

  /** A publish with confirms: {@link RabbitPublisher}, {@link RabbitDeadLetter}, a retry queue. */
  public static final String PUBLISH = "publish";

  /** An ack ({@code basic.ack}) of a delivery. */
  public static final String ACK = "ack";

  /** A reject without requeue, which routes the delivery through its queue's DLX. */
  public static final String REJECT = "reject";

  /** A requeue ({@code basic.nack} with requeue) of a delivery. */
  public static final String REQUEUE = "requeue";

  /**
   * Marking a delivery for its queue's dead-letter exchange ({@link
   * RabbitDeadLetter#viaQueueDeadLetterExchange(RabbitSource)}).
   */
  public static final String DEAD_LETTER = "dead-letter";

  /** The check that a queue exists. */
  public static final String CHECK_QUEUE = "check-queue";

  /** The declaration of a queue. */
  public static final String DECLARE_QUEUE = "declare-queue";

  /** The check that an exchange exists. */
  public static final String CHECK_EXCHANGE = "check-exchange";

  private final @Nullable String exchange;
  private final @Nullable String routingKey;
  private final long deliveryTag;

  private RabbitOperationException(
      String message,
      String operation,
      String destination,
      @Nullable String messageId,
      @Nullable String exchange,
      @Nullable String routingKey,
      long deliveryTag,
      @Nullable Throwable cause) {
    super(message, operation, destination, messageId, cause);
    this.exchange = exchange;
    this.routingKey = routingKey;
    this.deliveryTag = deliveryTag;
  }

  /**
   * A failed publish, for the adapter's own use. The destination is the routing key on the default
   * exchange ({@code ""}), else the exchange.
   */
  public static RabbitOperationException publish(
      String exchange,
      String routingKey,
      @Nullable String messageId,
      String detail,
      @Nullable Throwable cause) {
    return new RabbitOperationException(
        "RabbitMQ publish"
            + (messageId == null ? "" : " of message " + messageId)
            + " to exchange '"
            + exchange
            + "' with routing key '"
            + routingKey
            + "' failed: "
            + detail,
        PUBLISH,
        exchange.isEmpty() ? routingKey : exchange,
        messageId,
        exchange,
        routingKey,
        -1,
        cause);
  }

  /**
   * A failed settlement of a delivery ({@link #ACK}, {@link #REJECT}, {@link #REQUEUE}, {@link
   * #DEAD_LETTER}), for the adapter's own use.
   */
  public static RabbitOperationException settle(
      String operation,
      String queue,
      long deliveryTag,
      @Nullable String messageId,
      String detail,
      @Nullable Throwable cause) {
    return new RabbitOperationException(
        "RabbitMQ "
            + operation
            + (messageId == null ? "" : " of message " + messageId)
            + " on queue '"
            + queue
            + "' failed: "
            + detail,
        operation,
        queue,
        messageId,
        null,
        null,
        deliveryTag,
        cause);
  }

  /**
   * A failed check or declaration of a queue or exchange ({@link #CHECK_QUEUE}, {@link
   * #DECLARE_QUEUE}, {@link #CHECK_EXCHANGE}), for the adapter's own use.
   */
  public static RabbitOperationException topology(
      String operation, String name, String detail, @Nullable Throwable cause) {
    String what = CHECK_EXCHANGE.equals(operation) ? "exchange" : "queue";
    return new RabbitOperationException(
        "RabbitMQ " + operation + " of " + what + " '" + name + "' failed: " + detail,
        operation,
        name,
        null,
        null,
        null,
        -1,
        cause);
  }

  /**
   * The exchange of a publish ({@code ""} is the default exchange), or null for other operations.
   */
  public @Nullable String exchange() {
    return exchange;
  }

  /** The routing key of a publish, or null for other operations. */
  public @Nullable String routingKey() {
    return routingKey;
  }

  /** The delivery tag of a settlement (valid only on its channel), or -1. */
  public long deliveryTag() {
    return deliveryTag;
  }
}
