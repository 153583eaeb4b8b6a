package dev.onceflow.sqs;

import dev.onceflow.core.Envelope;
import dev.onceflow.memory.InMemoryIdempotencyStore;
import dev.onceflow.outcome.Ledger;
import dev.onceflow.pipeline.Decoder;
import dev.onceflow.pipeline.Dedup;
import dev.onceflow.pipeline.Onceflow;
import dev.onceflow.pipeline.Pipeline;
import dev.onceflow.pipeline.Retries;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;

/**
 * The README's SQS example, runnable against an ElasticMQ started in the same JVM:
 *
 * <pre>
 * mvn -pl adapters-sqs -o test-compile exec:java -Dexec.classpathScope=test -Dexec.cleanupDaemonThreads=false \
 *     -Dexec.mainClass=dev.onceflow.sqs.SqsExample
 * </pre>
 *
 * Against Amazon SQS, build the client as usual and pass your queue URLs instead.
 */
public final class SqsExample {

  public static void main(String[] args) {
    try (ElasticMq mq = ElasticMq.start()) {
      // 1. Two queues: the orders, and their dead letters.
      String orders = mq.createQueue("orders");
      String deadLetters = mq.createQueue("orders-dlq");
      Ledger ledger = run(mq.client(), orders, deadLetters);
      System.out.println("ledger: " + ledger);
    }
  }

  /**
   * Publishes 20 orders (5 of them twice, 1 poison), consumes them once each, returns the ledger.
   */
  static Ledger run(SqsAsyncClient client, String ordersUrl, String deadLetterUrl) {
    // 2. Publish: every message carries a stable onceflow-id; 5 are sent twice.
    List<Envelope> batch = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      batch.add(order("order-" + i, i == 13 ? "poison" : "{\"amount\":" + i + "}"));
    }
    batch.addAll(batch.subList(0, 5));
    SqsPublisher.create(client).publishAll(ordersUrl, batch).block(Duration.ofSeconds(30));

    // 3. The consumer: SQS in, dedup through a store, SQS dead letters out.
    Pipeline<String, String> pipeline =
        Onceflow.consume(
                SqsSource.create(
                    SqsSourceOptions.builder()
                        .client(client)
                        .queueUrl(ordersUrl)
                        .visibilityTimeout(Duration.ofSeconds(30))
                        .waitTime(Duration.ofSeconds(1))
                        .build()))
            .name("orders")
            .decode(Decoder.utf8())
            .deduplicate(Dedup.byMessageId(InMemoryIdempotencyStore.create()))
            .handle(
                msg ->
                    msg.payload().equals("poison")
                        ? Mono.error(new IllegalArgumentException("unreadable order"))
                        : Mono.just("charged " + msg.key()))
            .retry(Retries.exponential(3, Duration.ofMillis(50)))
            .deadLetterTo(SqsDeadLetter.create(client, deadLetterUrl))
            .concurrency(16)
            .build();

    // 4. Run until all 25 deliveries are settled: 19 processed, 5 duplicates, 1 dead letter.
    Disposable running = pipeline.start();
    try {
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (settled(pipeline.ledger()) < 25 && System.nanoTime() < deadline) {
        Mono.delay(Duration.ofMillis(100)).block();
      }
    } finally {
      // 5. Graceful stop: in-flight work finishes, acks are flushed.
      pipeline.stop(Duration.ofSeconds(10)).block(Duration.ofSeconds(15));
      running.dispose();
    }
    return pipeline.ledger();
  }

  private static long settled(Ledger l) {
    return l.processed() + l.duplicates() + l.deadLettered();
  }

  private static Envelope order(String id, String json) {
    return Envelope.builder().messageId(id).payload(json.getBytes(StandardCharsets.UTF_8)).build();
  }

  private SqsExample() {}
}
