package dev.onceflow.rabbitmq;

import dev.onceflow.core.Check;
import dev.onceflow.core.Envelope;
import dev.onceflow.core.HeaderConvention;
import dev.onceflow.core.MessagePublisher;
import dev.onceflow.rabbitmq.internal.AmqpMessages;
import dev.onceflow.rabbitmq.internal.ConfirmedPublisher;
import dev.onceflow.rabbitmq.internal.Connections;
import java.util.Objects;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import reactor.core.publisher.Mono;

/**
 * Publishes messages in the onceflow convention, with publisher confirms. The {@link
 * MessagePublisher} contract holds; on RabbitMQ:
 *
 * <p>Each message carries its id in the AMQP {@code message-id} property <em>and</em> the {@code
 * onceflow-id} header (a message without one gets a random UUID when {@code publish} is called),
 * its correlation id in {@code correlation-id} and the header, its timestamp in the {@code
 * timestamp} property (seconds) and the {@code onceflow-timestamp} header (milliseconds), and every
 * other envelope field as convention headers ({@link HeaderConvention#toHeaders(Envelope)});
 * delivery mode persistent, mandatory routing.
 *
 * <p>The {@code Mono} of {@link #publish} completes only after the broker confirmed (acked) the
 * message; it errors with a {@link RabbitOperationException} on a nack, on an unroutable return (no
 * queue bound), or when no confirm came within {@link RabbitPublisherOptions#confirmTimeout()}.
 * Each subscription publishes again. Thread-safe; blocking calls run on {@link
 * RabbitPublisherOptions#scheduler()}.
 *
 * <p>{@link #close()} closes the connection the publisher made from a URI, and the threads it ran
 * on; a caller's connection factory is left open.
 */
public final class RabbitPublisher implements MessagePublisher<RabbitPublishResult> {

  private final RabbitPublisherOptions options;
  private final ConfirmedPublisher publisher;
  private final Connections.@Nullable Owned owned;

  private RabbitPublisher(RabbitPublisherOptions options) {
    this.options = options;
    ConnectionFactory cf = options.connectionFactory();
    Connections.Owned own = null;
    if (cf == null) {
      own = Connections.fromUri(Objects.requireNonNull(options.uri()), "onceflow-publisher");
      cf = own.factory();
    }
    this.owned = own;
    this.publisher = new ConfirmedPublisher(cf, options.confirmTimeout(), options.scheduler());
  }

  /** A publisher with these options. It connects on the first publish. */
  public static RabbitPublisher create(RabbitPublisherOptions options) {
    return new RabbitPublisher(Objects.requireNonNull(options, "options"));
  }

  /** A publisher to the default exchange of the broker at {@code uri}. */
  public static RabbitPublisher create(String uri) {
    return create(RabbitPublisherOptions.builder().uri(uri).build());
  }

  /** The options of this publisher. */
  public RabbitPublisherOptions options() {
    return options;
  }

  /**
   * Publishes to the options' {@linkplain RabbitPublisherOptions#exchange() exchange} (by default
   * the default exchange, where the routing key is a queue's name).
   */
  @Override
  public Mono<RabbitPublishResult> publish(String routingKey, Envelope message) {
    return publish(options.exchange(), routingKey, message);
  }

  /** Publishes {@code message} to {@code exchange} with {@code routingKey}. */
  public Mono<RabbitPublishResult> publish(String exchange, String routingKey, Envelope message) {
    Objects.requireNonNull(exchange, "exchange");
    Check.notNull(routingKey, "routingKey");
    Objects.requireNonNull(message, "message");
    String given = message.messageId();
    String id = given != null ? given : UUID.randomUUID().toString();
    Envelope out = given != null ? message : message.toBuilder().messageId(id).build();
    RabbitPublishResult result = new RabbitPublishResult(exchange, routingKey, id);
    // The AMQP message is built per subscription: RabbitTemplate writes its return correlation
    // into the properties of the message it sends.
    return Mono.defer(
            () ->
                publisher.send(
                    exchange,
                    routingKey,
                    AmqpMessages.toMessage(out, HeaderConvention.toHeaders(out))))
        .thenReturn(result);
  }

  /** Closes the connection this publisher made from a URI and its threads. Blocking. */
  @Override
  public void close() {
    Connections.Owned o = owned;
    if (o != null) {
      o.close();
    }
  }

  @Override
  public String toString() {
    return "RabbitPublisher{" + options + "}";
  }
}
