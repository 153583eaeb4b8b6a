package dev.onceflow.rabbitmq.internal;

import dev.onceflow.rabbitmq.RabbitPublishException;
import java.time.Duration;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.TimeoutException;
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
 * unroutable. The blocking {@code basic.publish} runs on the given scheduler.
 */
public final class ConfirmedPublisher {

  private final RabbitTemplate template;
  private final Duration confirmTimeout;
  private final Scheduler scheduler;

  public ConfirmedPublisher(ConnectionFactory cf, Duration confirmTimeout, Scheduler scheduler) {
    if (!Connections.confirmsEnabled(cf)) {
      throw new IllegalArgumentException(
          "publishing with confirms needs a connection factory with"
              + " setPublisherConfirmType(ConfirmType.CORRELATED) and setPublisherReturns(true)");
    }
    this.template = new RabbitTemplate(cf);
    this.template.setMandatory(true);
    // A separate connection, so that broker flow control on publishes never blocks consumers.
    this.template.setUsePublisherConnection(true);
    this.confirmTimeout = Objects.requireNonNull(confirmTimeout, "confirmTimeout");
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
  }

  /** Sends {@code message}; each subscription sends it again (so a retry re-sends). */
  public Mono<Void> send(String exchange, String routingKey, Message message) {
    return Mono.defer(
            () -> {
              CorrelationData correlation = new CorrelationData(UUID.randomUUID().toString());
              template.send(exchange, routingKey, message, correlation);
              return Mono.fromFuture(correlation.getFuture(), true)
                  .timeout(
                      confirmTimeout,
                      Mono.error(
                          () ->
                              new RabbitPublishException(
                                  "no publisher confirm within "
                                      + confirmTimeout
                                      + " for a message to exchange '"
                                      + exchange
                                      + "' with routing key '"
                                      + routingKey
                                      + "'",
                                  exchange,
                                  routingKey,
                                  new TimeoutException())))
                  .flatMap(
                      confirm -> {
                        if (!confirm.ack()) {
                          return Mono.error(
                              new RabbitPublishException(
                                  "the broker nacked a message to exchange '"
                                      + exchange
                                      + "' with routing key '"
                                      + routingKey
                                      + "': "
                                      + confirm.reason(),
                                  exchange,
                                  routingKey,
                                  null));
                        }
                        ReturnedMessage returned = correlation.getReturned();
                        if (returned != null) {
                          return Mono.error(
                              new RabbitPublishException(
                                  "the broker returned a message to exchange '"
                                      + exchange
                                      + "' with routing key '"
                                      + routingKey
                                      + "' as unroutable ("
                                      + returned.getReplyCode()
                                      + " "
                                      + returned.getReplyText()
                                      + "): no queue is bound for it",
                                  exchange,
                                  routingKey,
                                  null));
                        }
                        return Mono.<Void>empty();
                      });
            })
        .onErrorMap(
            e -> !(e instanceof RabbitPublishException),
            e ->
                new RabbitPublishException(
                    "publishing to exchange '"
                        + exchange
                        + "' with routing key '"
                        + routingKey
                        + "' failed: "
                        + e,
                    exchange,
                    routingKey,
                    e))
        .subscribeOn(scheduler);
  }
}
