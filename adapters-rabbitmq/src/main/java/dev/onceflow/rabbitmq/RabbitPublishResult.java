package dev.onceflow.rabbitmq;

import dev.onceflow.core.PublishResult;

/**
 * A message the broker confirmed to a {@link RabbitPublisher}.
 *
 * @param exchange the exchange ({@code ""}: the default exchange)
 * @param routingKey the routing key, the {@link #destination()} given to {@code publish}
 * @param messageId the message id, sent as the {@code message-id} property and the {@code
 *     onceflow-id} header
 */
public record RabbitPublishResult(String exchange, String routingKey, String messageId)
    implements PublishResult {

  /** The routing key. */
  @Override
  public String destination() {
    return routingKey;
  }
}
