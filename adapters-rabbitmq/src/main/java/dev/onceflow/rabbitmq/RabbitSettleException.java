package dev.onceflow.rabbitmq;

import org.jspecify.annotations.Nullable;

/**
 * An ack, reject or delayed redelivery that could not be carried out, usually because the channel
 * the delivery arrived on is closed. The delivery is not lost: the broker requeues every unacked
 * delivery of a closed channel and delivers it again.
 */
public final class RabbitSettleException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final String queue;
  private final long deliveryTag;

  public RabbitSettleException(
      String message, String queue, long deliveryTag, @Nullable Throwable cause) {
    super(message, cause);
    this.queue = queue;
    this.deliveryTag = deliveryTag;
  }

  public String queue() {
    return queue;
  }

  /** The delivery tag, valid only on the channel the delivery arrived on. */
  public long deliveryTag() {
    return deliveryTag;
  }
}
