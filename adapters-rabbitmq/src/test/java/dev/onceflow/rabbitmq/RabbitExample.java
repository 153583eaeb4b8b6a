package dev.onceflow.rabbitmq;

import dev.onceflow.memory.InMemoryIdempotencyStore;
import dev.onceflow.outcome.Ledger;
import dev.onceflow.pipeline.Decoder;
import dev.onceflow.pipeline.Dedup;
import dev.onceflow.pipeline.Onceflow;
import dev.onceflow.pipeline.Pipeline;
import dev.onceflow.pipeline.Retries;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.core.RabbitAdmin;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The README's RabbitMQ example, runnable against a local broker:
 *
 * <pre>
 * mvn -pl adapters-rabbitmq -Dexec.classpathScope=test \
 *     -Dexec.mainClass=dev.onceflow.rabbitmq.RabbitExample exec:java
 * </pre>
 *
 * <p>1. publishes 1,000 orders, each twice (a producer retry), with {@link RabbitPublisher}; 2.
 * consumes them with a pipeline over {@link RabbitSource}, deduplicating by message id; 3. prints
 * the ledger: 1,000 processed, 1,000 duplicates, each order handled once.
 */
public final class RabbitExample {

  private RabbitExample() {}

  public static void main(String[] args) throws Exception {
    String uri = args.length > 0 ? args[0] : "amqp://guest:guest@127.0.0.1:5672";
    Ledger ledger =
        run(uri, "onceflow-example-" + UUID.randomUUID().toString().substring(0, 8), 1_000);
    System.out.println("ledger: " + ledger);
    System.exit(ledger.processed() == 1_000 && ledger.duplicates() == 1_000 ? 0 : 1);
  }

  static Ledger run(String uri, String queue, int orders) throws Exception {
    Map<String, AtomicInteger> charged = new ConcurrentHashMap<>();
    // 1. The queues (the source and the dead-letter sink can declare them too:
    // declareQueue(true)), then the orders.
    declare(uri, queue);
    declare(uri, queue + ".dlq");
    try (RabbitPublisher publisher = RabbitPublisher.create(uri);
        RabbitDeadLetter deadLetters = RabbitDeadLetter.create(uri, queue + ".dlq")) {
      RabbitSource source =
          RabbitSource.create(
              RabbitSourceOptions.builder()
                  .uri(uri)
                  .queue(queue)
                  .declareQueue(true)
                  .prefetch(100)
                  .build());
      Flux.range(0, orders)
          .concatWith(Flux.range(0, orders)) // every order sent again: a producer retry
          .flatMap(
              i ->
                  publisher.publish(
                      queue,
                      "order-" + i,
                      ("{\"order\":" + i + "}").getBytes(StandardCharsets.UTF_8)),
              32)
          .blockLast(Duration.ofSeconds(60));

      // 2. The consumer.
      Pipeline<String, String> pipeline =
          Onceflow.consume(source)
              .name("orders")
              .decode(Decoder.utf8())
              .deduplicate(Dedup.byMessageId(InMemoryIdempotencyStore.create()))
              .handle(
                  msg -> {
                    charged.computeIfAbsent(msg.key(), k -> new AtomicInteger()).incrementAndGet();
                    return Mono.just("charged " + msg.key());
                  })
              .retry(Retries.exponential(3, Duration.ofMillis(100)))
              .deadLetterTo(deadLetters)
              .concurrency(64)
              .build();
      Disposable running = pipeline.start();
      try {
        while (pipeline.ledger().processed() + pipeline.ledger().duplicates() < 2L * orders) {
          Thread.sleep(50); // a demo's main thread; never inside a pipeline
        }
      } finally {
        pipeline.stop(Duration.ofSeconds(10)).block();
        running.dispose();
        delete(uri, queue, queue + ".dlq");
      }
      if (charged.size() != orders || charged.values().stream().anyMatch(c -> c.get() != 1)) {
        throw new IllegalStateException(
            "an order was charged twice or not at all: " + charged.size());
      }
      return pipeline.ledger();
    }
  }

  private static void declare(String uri, String queue) {
    CachingConnectionFactory cf = new CachingConnectionFactory(java.net.URI.create(uri));
    try {
      new RabbitAdmin(cf).declareQueue(new org.springframework.amqp.core.Queue(queue, true));
    } finally {
      cf.destroy();
    }
  }

  private static void delete(String uri, String... queues) {
    CachingConnectionFactory cf = new CachingConnectionFactory(java.net.URI.create(uri));
    try {
      RabbitAdmin admin = new RabbitAdmin(cf);
      for (String q : queues) {
        admin.deleteQueue(q);
      }
    } finally {
      cf.destroy();
    }
  }
}
