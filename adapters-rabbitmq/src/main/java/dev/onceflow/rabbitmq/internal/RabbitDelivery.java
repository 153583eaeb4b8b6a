package dev.onceflow.rabbitmq.internal;

import com.rabbitmq.client.Channel;
import dev.onceflow.core.Delivery;
import dev.onceflow.core.Envelope;
import java.util.Objects;
import org.springframework.amqp.core.Message;

/**
 * One unsettled delivery: the envelope, the channel it arrived on (the raw amqp-client channel,
 * never spring's caching proxy, which would silently open a new channel on which the delivery tag
 * means nothing) and its delivery tag.
 */
public final class RabbitDelivery {

  private final Consumption consumption;
  private final Channel channel;
  private final long deliveryTag;
  private final String receipt;
  private final Message message;
  private final Envelope envelope;
  private final Delivery delivery;
  private volatile boolean deadLetterOnAck;

  RabbitDelivery(
      Consumption consumption,
      Channel channel,
      long deliveryTag,
      String receipt,
      Message message,
      Envelope envelope) {
    this.consumption = consumption;
    this.channel = Objects.requireNonNull(channel, "channel");
    this.deliveryTag = deliveryTag;
    this.receipt = receipt;
    this.message = message;
    this.envelope = envelope;
    this.delivery =
        Delivery.of(envelope, () -> consumption.ack(this), d -> consumption.nack(this, d));
  }

  Channel channel() {
    return channel;
  }

  long deliveryTag() {
    return deliveryTag;
  }

  /** The key of this delivery among those in flight: {@code <deliveryTag>@<consumerTag>}. */
  public String receipt() {
    return receipt;
  }

  Message message() {
    return message;
  }

  Envelope envelope() {
    return envelope;
  }

  Delivery delivery() {
    return delivery;
  }

  Consumption consumption() {
    return consumption;
  }

  /** Turns the coming ack into a reject without requeue (routing through the queue's DLX). */
  public void deadLetterOnAck() {
    this.deadLetterOnAck = true;
  }

  boolean deadLetterOnAckRequested() {
    return deadLetterOnAck;
  }
}
