package dev.onceflow.examples;

import dev.onceflow.core.Envelope;
import dev.onceflow.core.Origin;
import dev.onceflow.deadletter.DeadLetterReason;
import dev.onceflow.memory.InMemoryDeadLetters;
import dev.onceflow.memory.InMemoryIdempotencyStore;
import dev.onceflow.memory.InMemorySource;
import dev.onceflow.pipeline.Decoder;
import dev.onceflow.pipeline.Dedup;
import dev.onceflow.pipeline.Handled;
import dev.onceflow.pipeline.Ledger;
import dev.onceflow.pipeline.NonRetryableException;
import dev.onceflow.pipeline.Onceflow;
import dev.onceflow.pipeline.Pipeline;
import dev.onceflow.pipeline.Retries;
import dev.onceflow.store.Effect;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * The embedded demo: an order stream with duplicates, poison messages and a consumer crash
 * mid-stream, consumed by an onceflow pipeline that applies one transactional effect per order.
 * Prints the ledger and exits 0 only when every order's effect was applied exactly once and every
 * delivery is accounted for.
 */
public final class Demo {

  static final int ORDERS = 20_000;
  static final double DUPLICATE_RATE = 0.3;
  static final int POISON = 5;

  private Demo() {}

  public static void main(String[] args) {
    System.exit(run());
  }

  static int run() {
    long started = System.nanoTime();
    System.out.println("onceflow demo: embedded in-memory queue and in-memory store");
    InMemorySource queue = InMemorySource.create("orders");
    InMemoryIdempotencyStore store = InMemoryIdempotencyStore.create();
    InMemoryDeadLetters deadLetters = InMemoryDeadLetters.create();

    Random random = new Random(42);
    int duplicates = 0;
    for (int i = 0; i < ORDERS; i++) {
      boolean poison = i % (ORDERS / POISON) == 17;
      Envelope.Builder order = order(i, poison);
      queue.publish(order);
      if (random.nextDouble() < DUPLICATE_RATE) {
        queue.publish(order(i, poison)); // the producer re-sent it: same id
        duplicates++;
      }
    }
    System.out.printf(
        "published %,d orders + %,d duplicates (same id re-sent), %d of them poison%n",
        ORDERS, duplicates, POISON);

    // First consumer: killed mid-stream without a graceful stop.
    Pipeline<String, String> first = pipeline(queue, store, deadLetters, "consumer-1");
    first.outcomes().take((ORDERS + duplicates) / 3).then().block(Duration.ofMinutes(5));
    System.out.printf("crash: consumer-1 killed mid-stream after %s%n", first.ledger());

    // Second consumer: finishes the stream; the queue redelivers what consumer-1 left unacked.
    queue.completeWhenDrained();
    Pipeline<String, String> second = pipeline(queue, store, deadLetters, "consumer-2");
    Disposable progress =
        Flux.interval(Duration.ofMillis(500), Schedulers.single())
            .subscribe(t -> System.out.printf("  progress: %s%n", second.ledger()));
    second.outcomes().then().block(Duration.ofMinutes(5));
    progress.dispose();

    long elapsedNanos = System.nanoTime() - started;
    Ledger a = first.ledger();
    Ledger b = second.ledger();
    long delivered = a.delivered() + b.delivered();
    long processed = a.processed() + b.processed();
    long skipped = a.duplicates() + b.duplicates();
    long deadLettered = a.deadLettered() + b.deadLettered();
    long nacked = a.nacked() + b.nacked();

    Map<String, String> effects = store.data().hash("orders", "effects");
    long appliedOnce = effects.values().stream().filter("1"::equals).count();
    long appliedTwice = effects.values().stream().filter(v -> !"1".equals(v)).count();
    long poisonDead =
        deadLetters.deadLetters().stream()
            .filter(d -> d.reason() == DeadLetterReason.NON_RETRYABLE)
            .map(d -> d.envelope().messageId())
            .distinct()
            .count();

    System.out.println();
    System.out.println("report");
    System.out.printf("  delivered           %,10d%n", delivered);
    System.out.printf("  processed           %,10d%n", processed);
    System.out.printf("  duplicates skipped  %,10d%n", skipped);
    System.out.printf(
        "  dead-lettered       %,10d  (%d distinct poison orders)%n", deadLettered, poisonDead);
    System.out.printf("  not acked (redelivered later) %,d%n", nacked);
    System.out.printf(
        "  effects applied     %,10d orders once, %d more than once%n", appliedOnce, appliedTwice);
    double seconds = elapsedNanos / 1e9;
    System.out.printf(
        "  elapsed             %10.2f s, %,.0f deliveries/s%n", seconds, delivered / seconds);

    boolean balanced =
        a.balanced()
            && b.balanced()
            && b.inFlight() == 0
            && appliedOnce == ORDERS - POISON
            && appliedTwice == 0
            && poisonDead == POISON
            && queue.drained();
    System.out.println(
        balanced
            ? "ledger balanced: every order applied exactly once, every delivery accounted for"
            : "LEDGER DOES NOT BALANCE");
    return balanced ? 0 : 1;
  }

  private static Envelope.Builder order(int i, boolean poison) {
    String body =
        "{\"order\":"
            + i
            + ",\"amount\":"
            + (i % 97 + 1)
            + (poison ? ",\"poison\":true" : "")
            + "}";
    return Envelope.builder()
        .messageId("order-" + i)
        .entityKey("customer-" + (i % 500))
        .payload(body.getBytes(StandardCharsets.UTF_8))
        .origin(Origin.kafka("orders", 0, i));
  }

  static Pipeline<String, String> pipeline(
      InMemorySource queue,
      InMemoryIdempotencyStore store,
      InMemoryDeadLetters deadLetters,
      String owner) {
    AtomicLong charged = new AtomicLong();
    return Onceflow.consume(queue)
        .name("orders")
        .owner(owner)
        .decode(Decoder.utf8())
        .deduplicate(
            Dedup.byMessageId(store).lease(Duration.ofSeconds(2)).retain(Duration.ofDays(7)))
        .<String>handleWithEffects(
            m -> {
              if (m.payload().contains("\"poison\"")) {
                return Mono.error(new NonRetryableException("order " + m.key() + " is malformed"));
              }
              charged.incrementAndGet();
              return Mono.just(Handled.of("charged", Effect.hincrBy("effects", m.key(), 1)));
            })
        .retry(Retries.exponential(3, Duration.ofMillis(10)))
        .deadLetterTo(deadLetters)
        .concurrency(64)
        .build();
  }
}
