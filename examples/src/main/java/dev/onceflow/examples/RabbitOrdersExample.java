package dev.onceflow.examples;

import dev.onceflow.core.Envelope;
import dev.onceflow.core.MessageSource;
import dev.onceflow.deadletter.DeadLetterSink;
import dev.onceflow.examples.internal.StoreChoice;
import dev.onceflow.outcome.Ledger;
import dev.onceflow.pipeline.Pipeline;
import dev.onceflow.rabbitmq.RabbitDeadLetter;
import dev.onceflow.rabbitmq.RabbitDeadLetterOptions;
import dev.onceflow.rabbitmq.RabbitPublisher;
import dev.onceflow.rabbitmq.RabbitSource;
import dev.onceflow.rabbitmq.RabbitSourceOptions;
import java.time.Duration;
import reactor.core.publisher.Flux;
import reactor.util.retry.Retry;

/**
 * Orders from RabbitMQ: publishes 1,000 orders twice each (same message id) to a fresh queue,
 * consumes them with {@link Orders#pipeline}, and prints the ledger. Needs RabbitMQ (default {@code
 * amqp://guest:guest@127.0.0.1:5672}, or the first argument); uses Redis at 127.0.0.1:6379 when it
 * answers, the in-memory store otherwise.
 */
public final class RabbitOrdersExample {

  static final int ORDERS = 1_000;

  private RabbitOrdersExample() {}

  public static void main(String[] args) {
    Ledger l = run(args.length > 0 ? args[0] : "amqp://guest:guest@127.0.0.1:5672");
    System.out.println("ledger: " + l);
    System.exit(l.processed() == ORDERS && l.duplicates() == ORDERS ? 0 : 1);
  }

  static Ledger run(String uri) {
    String queue = "orders-example-" + System.currentTimeMillis();
    try (StoreChoice stores =
            StoreChoice.redisIfAnswering("redis://127.0.0.1:6379", "onceflow-examples");
        RabbitPublisher publisher = RabbitPublisher.create(uri);
        RabbitDeadLetter rabbitDeadLetters =
            RabbitDeadLetter.create(
                RabbitDeadLetterOptions.builder()
                    .uri(uri)
                    .queue(queue + ".dlq")
                    .declareQueue(true)
                    .build())) {

      // The broker-specific lines: the source and the dead-letter destination.
      RabbitSource rabbit =
          RabbitSource.create(
              RabbitSourceOptions.builder()
                  .uri(uri)
                  .queue(queue)
                  .declareQueue(true)
                  .prefetch(100)
                  .build());
      MessageSource source = rabbit;
      DeadLetterSink deadLetters = rabbitDeadLetters;

      Pipeline<String, String> orders = Orders.pipeline(queue, source, deadLetters, stores.store());
      // Subscribing declares the queue; publish once the consumer is there.
      Ledger ledger =
          Orders.runUntilSettled(
              orders,
              2L * ORDERS,
              Duration.ofSeconds(60),
              () ->
                  Flux.range(0, ORDERS * 2)
                      .flatMapSequential(
                          n ->
                              publisher
                                  .publish(
                                      queue,
                                      Envelope.builder()
                                          .messageId("order-" + n / 2)
                                          .entityKey("customer-" + (n / 2 % 50))
                                          .payload(Orders.payload(n / 2))
                                          .build())
                                  // the queue is declared when the consumer subscribes: until
                                  // then the broker returns the message as unroutable
                                  .retryWhen(Retry.fixedDelay(100, Duration.ofMillis(100))),
                          32)
                      .then()
                      .block(Duration.ofSeconds(60)));
      System.out.println(
          "store: "
              + stores.description()
              + "; "
              + stores.effects(queue, Orders.EFFECTS).size()
              + " orders charged");
      stores.deleteEffects(queue, Orders.EFFECTS);
      return ledger;
    }
  }
}
