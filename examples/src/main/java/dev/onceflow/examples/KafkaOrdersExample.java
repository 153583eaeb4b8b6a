package dev.onceflow.examples;

import dev.onceflow.core.Envelope;
import dev.onceflow.core.MessageSource;
import dev.onceflow.deadletter.DeadLetterSink;
import dev.onceflow.examples.internal.StoreChoice;
import dev.onceflow.kafka.KafkaDeadLetter;
import dev.onceflow.kafka.KafkaPublisher;
import dev.onceflow.kafka.KafkaSource;
import dev.onceflow.kafka.KafkaSourceOptions;
import dev.onceflow.kafka.embedded.EmbeddedKafka;
import dev.onceflow.outcome.Ledger;
import dev.onceflow.pipeline.Pipeline;
import java.time.Duration;
import reactor.core.publisher.Flux;

/**
 * Orders from Kafka: publishes 1,000 orders twice each (same id) to a broker started inside this
 * JVM, consumes them with {@link Orders#pipeline}, and prints the ledger (1,000 processed, 1,000
 * duplicates). Uses Redis at 127.0.0.1:6379 when it answers, the in-memory store otherwise.
 *
 * <p>Against your own cluster, replace the in-JVM broker by your bootstrap servers.
 */
public final class KafkaOrdersExample {

  static final int ORDERS = 1_000;

  private KafkaOrdersExample() {}

  public static void main(String[] args) {
    Ledger l = run();
    System.out.println("ledger: " + l);
    System.exit(l.processed() == ORDERS && l.duplicates() == ORDERS ? 0 : 1);
  }

  static Ledger run() {
    try (EmbeddedKafka kafka = EmbeddedKafka.start();
        StoreChoice stores =
            StoreChoice.redisIfAnswering("redis://127.0.0.1:6379", "onceflow-examples");
        KafkaPublisher publisher = KafkaPublisher.create(kafka.bootstrapServers());
        KafkaDeadLetter kafkaDeadLetters =
            KafkaDeadLetter.create(kafka.bootstrapServers(), "orders.DLT")) {
      String bootstrap = kafka.bootstrapServers();
      kafka.createTopic("orders", 3).createTopic("orders.DLT", 1);
      Flux.range(0, ORDERS * 2)
          .flatMapSequential(
              n -> {
                int i = n / 2;
                return publisher.publish(
                    "orders",
                    Envelope.builder()
                        .messageId("order-" + i) // the same id for both copies
                        .entityKey("customer-" + (i % 50))
                        .payload(Orders.payload(i))
                        .build());
              },
              64)
          .then()
          .block(Duration.ofSeconds(60));

      // The broker-specific lines: the source and the dead-letter destination.
      MessageSource source =
          KafkaSource.create(
              KafkaSourceOptions.builder()
                  .bootstrapServers(bootstrap)
                  .groupId("orders-example")
                  .topics("orders")
                  .build());
      DeadLetterSink deadLetters = kafkaDeadLetters;

      String name = "kafka-orders-" + System.currentTimeMillis();
      Pipeline<String, String> orders = Orders.pipeline(name, source, deadLetters, stores.store());
      Ledger ledger = Orders.runUntilSettled(orders, 2L * ORDERS, Duration.ofSeconds(60));
      System.out.println(
          "store: "
              + stores.description()
              + "; effects in "
              + stores.effectLocation(name, Orders.EFFECTS)
              + ": "
              + stores.effects(name, Orders.EFFECTS).size()
              + " orders charged");
      stores.deleteEffects(name, Orders.EFFECTS);
      return ledger;
    }
  }
}
