package dev.onceflow.rabbitmq.internal;

import dev.onceflow.rabbitmq.RabbitOperationException;
import java.time.Duration;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.core.ReturnedMessage;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.connection.CorrelationData;
import org.springframework.amqp.rabbit.core.RabbitTemplate;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * Publishes with correlated publisher confirms and mandatory routing: the returned {@code Mono}
 * completes only after the broker confirmed (acked) the message and did not return it as
 * unroutable, and errors with a {@link RabbitOperationException} otherwise. The blocking {@code
 * basic.publish} runs on the given scheduler.
 */
public final class ConfirmedPublisher {

  private final RabbitTemplate template;
  private final Duration confirmTimeout;
  private final Scheduler scheduler;

  public ConfirmedPublisher(ConnectionFactory cf, Duration confirmTimeout, Scheduler scheduler) {
    Connections.requireConfirms(cf, "publishing with confirms");
    this.template = new RabbitTemplate(cf);
    this.template.setMandatory(true);
    // A separate connection, so that broker flow control on publishes never blocks consumers.
    this.template.setUsePublisherConnection(true);
    this.confirmTimeout = Objects.requireNonNull(confirmTimeout, "confirmTimeout");
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
  }

  /** The template, for passive checks of the topology on the same connection factory. */
  public RabbitTemplate template() {
    return template;
  }

  /** Sends {@code message}; each subscription sends it again (so a retry re-sends). */
  public Mono<Void> send(String exchange, String routingKey, Message message) {
    @Nullable String id = message.getMessageProperties().getMessageId();
    return Mono.defer(
            () -> {
              CorrelationData correlation = new CorrelationData(UUID.randomUUID().toString());
              template.send(exchange, routingKey, message, correlation);
              return Mono.fromFuture(correlation.getFuture(), true)
                  .timeout(
                      confirmTimeout,
                      Mono.error(
                          () ->
                              RabbitOperationException.publish(
                                  exchange,
                                  routingKey,
                                  id,
                                  "no publisher confirm within " + confirmTimeout,
                                  new TimeoutException())))
                  .flatMap(
                      confirm -> {
                        if (!confirm.ack()) {
                          return Mono.error(
                              RabbitOperationException.publish(
                                  exchange,
                                  routingKey,
                                  id,
                                  "the broker nacked it: " + confirm.reason(),
                                  null));
                        }
                        ReturnedMessage returned = correlation.getReturned();
                        if (returned != null) {
                          return Mono.error(
                              RabbitOperationException.publish(
                                  exchange,
                                  routingKey,
                                  id,
                                  "the broker returned it as unroutable ("
                                      + returned.getReplyCode()
                                      + " "
                                      + returned.getReplyText()
                                      + "): no queue is bound for it",
                                  null));
                        }
                        return Mono.<Void>empty();
                      });
            })
        .onErrorMap(
            e -> !(e instanceof RabbitOperationException),
            e -> RabbitOperationException.publish(exchange, routingKey, id, e.toString(), e))
        .subscribeOn(scheduler);
  }
}
