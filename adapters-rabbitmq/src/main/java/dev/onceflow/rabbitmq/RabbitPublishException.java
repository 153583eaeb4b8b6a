package dev.onceflow.rabbitmq;

import org.jspecify.annotations.Nullable;

/**
 * A publish the broker did not accept: nacked, returned as unroutable, not confirmed in time, or
 * failed on the connection. The message may or may not have reached a queue (publishing is
 * at-least-once), so callers retry or nack the original rather than treat it as lost.
 */
public final class RabbitPublishException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final String exchange;
  private final String routingKey;

  public RabbitPublishException(
      String message, String exchange, String routingKey, @Nullable Throwable cause) {
    super(message, cause);
    this.exchange = exchange;
    this.routingKey = routingKey;
  }

  /** The exchange of the failed publish ({@code ""} is the default exchange). */
  public String exchange() {
    return exchange;
  }

  public String routingKey() {
    return routingKey;
  }
}
