package dev.onceflow.examples;

import dev.onceflow.core.Envelope;
import dev.onceflow.examples.internal.StoreChoice;
import dev.onceflow.handler.Handled;
import dev.onceflow.kafka.KafkaDeadLetter;
import dev.onceflow.kafka.KafkaPublisher;
import dev.onceflow.kafka.KafkaSource;
import dev.onceflow.kafka.KafkaSourceOptions;
import dev.onceflow.kafka.embedded.EmbeddedKafka;
import dev.onceflow.outcome.Ledger;
import dev.onceflow.outcome.Outcome;
import dev.onceflow.pipeline.Decoder;
import dev.onceflow.pipeline.Dedup;
import dev.onceflow.pipeline.NonRetryableException;
import dev.onceflow.pipeline.Onceflow;
import dev.onceflow.pipeline.Pipeline;
import dev.onceflow.pipeline.Retries;
import dev.onceflow.store.Effect;
import dev.onceflow.store.RecordedOutcome;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * The demo: a real Kafka broker started inside this JVM (KRaft, loopback), an order stream with
 * duplicates (the same id re-sent by the producer), a few poison orders, and a consumer killed
 * mid-stream with work in flight; a second consumer of the same group finishes the stream. Each
 * order applies one transactional effect ({@code HINCRBY effects <order id> 1}, committed with its
 * completion record) in the Redis store when {@code redis://127.0.0.1:6379} answers, in the
 * in-memory store otherwise.
 *
 * <p>Prints a progress line every second and a report, and exits 0 only when the ledger balances:
 * every delivery accounted for, every good order's effect applied exactly once, every poison order
 * dead-lettered, and the group's committed offsets at the end of the topic.
 */
public final class Demo {

  static final int ORDERS = 10_000;
  static final double DUPLICATE_RATE = 0.3;
  static final int POISON = 5;
  static final int PARTITIONS = 3;
  static final String TOPIC = "orders";
  static final String DEAD_LETTER_TOPIC = "orders.DLT";
  static final String GROUP = "orders-demo";
  static final String REDIS = "redis://127.0.0.1:6379";

  /**
   * Deliveries consumer-2 settles before its throughput is measured: by then the JVM has also
   * started the broker, published, and run consumer-1, so the JIT has compiled the hot path.
   */
  static final int WARM_UP = 1_000;

  private Demo() {}

  public static void main(String[] args) {
    System.exit(
        run(
            System.out,
            () ->
                StoreChoice.answersPing(REDIS, Duration.ofMillis(500))
                    ? StoreChoice.redis(REDIS, "onceflow-demo")
                    : StoreChoice.inMemory("Redis at " + REDIS + " did not answer")));
  }

  /** Runs the demo; 0 when the ledger balances, 1 otherwise. */
  static int run(PrintStream out, Supplier<StoreChoice> storeChoice) {
    long started = System.nanoTime();
    // A fresh namespace per run: records of earlier runs in the same Redis do not interfere.
    String pipelineName = "demo-orders-" + UUID.randomUUID().toString().substring(0, 8);
    out.println("onceflow demo: starting a Kafka broker inside this JVM (KRaft, loopback)");
    try (EmbeddedKafka kafka = EmbeddedKafka.start();
        StoreChoice stores = storeChoice.get();
        KafkaPublisher publisher = KafkaPublisher.create(kafka.bootstrapServers());
        KafkaDeadLetter deadLetters =
            KafkaDeadLetter.create(kafka.bootstrapServers(), DEAD_LETTER_TOPIC)) {
      kafka.createTopic(TOPIC, PARTITIONS).createTopic(DEAD_LETTER_TOPIC, 1);
      out.printf(
          "broker %s up in %.1f s; store: %s; pipeline %s%n",
          kafka.bootstrapServers(),
          (System.nanoTime() - started) / 1e9,
          stores.description(),
          pipelineName);

      int published = publish(out, publisher);

      long consumeStarted = System.nanoTime();
      Pipeline<String, String> first =
          pipeline(kafka.bootstrapServers(), stores, deadLetters, pipelineName, "consumer-1");
      Pipeline<String, String> second =
          pipeline(kafka.bootstrapServers(), stores, deadLetters, pipelineName, "consumer-2");
      Disposable progress =
          Flux.interval(Duration.ofSeconds(1), Schedulers.single())
              .subscribe(
                  t ->
                      out.printf(
                          "  progress: %s | %s%n",
                          label("consumer-1", first.ledger()),
                          label("consumer-2", second.ledger())));

      // consumer-1 is killed (its subscription disposed, no graceful stop) a third of the way in.
      CountDownLatch third = new CountDownLatch((ORDERS - POISON) / 3);
      Disposable consumer1 =
          first
              .outcomes()
              .doOnNext(
                  o -> {
                    if (o instanceof Outcome.Processed) {
                      third.countDown();
                    }
                  })
              .subscribe(o -> {}, e -> out.println("consumer-1 failed: " + e));
      if (!third.await(60, TimeUnit.SECONDS)) {
        out.println("consumer-1 did not get a third of the way in 60 s");
      }
      long inFlightAtCrash = first.ledger().inFlight();
      consumer1.dispose();
      out.printf(
          "crash: consumer-1 killed mid-stream with %d deliveries in flight; its ledger: %s%n",
          inFlightAtCrash, first.ledger());

      // consumer-2 joins the same group and finishes: Kafka redelivers everything consumer-1 did
      // not commit, and the store turns what consumer-1 had already recorded into duplicates.
      SteadyRate steady = new SteadyRate(WARM_UP);
      Disposable consumer2 =
          second
              .outcomes()
              .subscribe(o -> steady.settled(), e -> out.println("consumer-2 failed: " + e));
      // Done when every record of the topic is settled and committed by the group.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(45);
      while (System.nanoTime() < deadline
          && !(second.ledger().inFlight() == 0 && allCommitted(kafka))) {
        Mono.delay(Duration.ofMillis(200)).block();
      }
      second.stop(Duration.ofSeconds(10)).block(Duration.ofSeconds(30));
      consumer2.dispose();
      progress.dispose();
      double consumeSeconds = (System.nanoTime() - consumeStarted) / 1e9;

      return report(
          out,
          kafka,
          stores,
          pipelineName,
          published,
          first.ledger(),
          second.ledger(),
          inFlightAtCrash,
          consumeSeconds,
          steady,
          (System.nanoTime() - started) / 1e9);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      out.println("interrupted");
      return 1;
    } catch (RuntimeException e) {
      out.println("demo failed: " + e);
      e.printStackTrace(out);
      return 1;
    }
  }

  /** Publishes the orders, re-sending some with the same id; returns how many records were sent. */
  private static int publish(PrintStream out, KafkaPublisher publisher) {
    long t0 = System.nanoTime();
    Random random = new Random(42);
    List<Mono<?>> sends = new ArrayList<>();
    int duplicates = 0;
    for (int i = 0; i < ORDERS; i++) {
      boolean poison = isPoison(i);
      Envelope order =
          Envelope.builder()
              .messageId("order-" + i)
              .entityKey("customer-" + (i % 500))
              .payload(body(i, poison))
              .build();
      sends.add(publisher.publish(TOPIC, order));
      if (random.nextDouble() < DUPLICATE_RATE) {
        sends.add(publisher.publish(TOPIC, order)); // the producer re-sent it
        duplicates++;
      }
    }
    Flux.fromIterable(sends).flatMapSequential(m -> m, 256).then().block(Duration.ofSeconds(60));
    out.printf(
        "published %,d orders + %,d duplicates (same id re-sent), %d of them poison, in %.1f s%n",
        ORDERS, duplicates, POISON, (System.nanoTime() - t0) / 1e9);
    return ORDERS + duplicates;
  }

  private static byte[] body(int i, boolean poison) {
    return ("{\"order\":"
            + i
            + ",\"amount\":"
            + (i % 97 + 1)
            + (poison ? ",\"poison\":true" : "")
            + "}")
        .getBytes(StandardCharsets.UTF_8);
  }

  static Pipeline<String, String> pipeline(
      String bootstrapServers,
      StoreChoice stores,
      KafkaDeadLetter deadLetters,
      String pipelineName,
      String owner) {
    KafkaSource source =
        KafkaSource.create(
            KafkaSourceOptions.builder()
                .bootstrapServers(bootstrapServers)
                .groupId(GROUP)
                .topics(TOPIC)
                .clientId(owner)
                .commitInterval(Duration.ofMillis(200))
                .build());
    return Onceflow.consume(source)
        .name(pipelineName)
        .owner(owner)
        .decode(Decoder.utf8())
        .deduplicate(
            Dedup.byMessageId(stores.store())
                .lease(Duration.ofSeconds(3))
                .retain(Duration.ofHours(1))
                .inProgressBackoff(Duration.ofMillis(500)))
        .<String>handleWithEffects(
            m -> {
              if (m.payload().contains("\"poison\"")) {
                return Mono.error(new NonRetryableException("order " + m.key() + " is malformed"));
              }
              // A 5 ms call to a billing service, so that work is in flight when consumer-1 dies.
              return Mono.delay(Duration.ofMillis(5))
                  .thenReturn(Handled.of("charged", Effect.hincrBy("effects", m.key(), 1)));
            })
        .retry(Retries.exponential(3, Duration.ofMillis(10)))
        .deadLetterTo(deadLetters)
        .concurrency(256)
        .build();
  }

  private static boolean allCommitted(EmbeddedKafka kafka) {
    Map<TopicPartition, Long> end = kafka.endOffsets(TOPIC, PARTITIONS);
    Map<TopicPartition, Long> committed = new HashMap<>();
    kafka
        .committedOffsets(GROUP)
        .forEach((tp, om) -> committed.put(tp, om == null ? -1 : om.offset()));
    return end.equals(committed);
  }

  /**
   * The throughput of consumer-2 after its first {@code warmUp} settled deliveries, up to its last
   * one: JVM start, broker start, publishing and the wait for the final commit are not in it.
   */
  static final class SteadyRate {
    private final int warmUp;
    private final AtomicLong count = new AtomicLong();
    private volatile long warmedAt;
    private volatile long lastAt;

    SteadyRate(int warmUp) {
      this.warmUp = warmUp;
    }

    /** Called once per settled delivery, from the outcome stream (one at a time). */
    void settled() {
      long n = count.incrementAndGet();
      long now = System.nanoTime();
      if (n == warmUp) {
        warmedAt = now;
      }
      lastAt = now;
    }

    String line() {
      long measured = count.get() - warmUp;
      double seconds = (lastAt - warmedAt) / 1e9;
      if (measured < 1 || seconds <= 0) {
        return String.format(
            Locale.ROOT,
            "throughput after warm-up: n/a (consumer-2 settled %d deliveries, warm-up is %d)",
            count.get(),
            warmUp);
      }
      return String.format(
          Locale.ROOT,
          "throughput after warm-up: %,.0f msgs/s (%,d messages, %.2f s)",
          measured / seconds,
          measured,
          seconds);
    }
  }

  static boolean isPoison(int i) {
    return i % (ORDERS / POISON) == 17;
  }

  private static String label(String name, Ledger l) {
    return String.format(
        "%s delivered=%,d processed=%,d duplicates=%,d dead=%,d inFlight=%d",
        name, l.delivered(), l.processed(), l.duplicates(), l.deadLettered(), l.inFlight());
  }

  private static int report(
      PrintStream out,
      EmbeddedKafka kafka,
      StoreChoice stores,
      String pipelineName,
      int published,
      Ledger a,
      Ledger b,
      long inFlightAtCrash,
      double consumeSeconds,
      SteadyRate steady,
      double totalSeconds) {
    long delivered = a.delivered() + b.delivered();
    long processed = a.processed() + b.processed();
    long skipped = a.duplicates() + b.duplicates();
    long dead = a.deadLettered() + b.deadLettered();
    long nacked = a.nacked() + b.nacked();

    Map<String, String> effects = stores.effects(pipelineName, "effects");
    long once = effects.values().stream().filter("1"::equals).count();
    long more = effects.size() - once;
    List<String> poisonIds = new ArrayList<>();
    for (int i = 0; i < ORDERS; i++) {
      if (isPoison(i)) {
        poisonIds.add("order-" + i);
      }
    }
    long poisonWithEffect = poisonIds.stream().filter(effects::containsKey).count();
    // The store's record is the truth: a poison order dead-lettered by consumer-1 whose ack the
    // crash cut off comes back to consumer-2 as a duplicate of its DEAD_LETTERED record.
    long poisonRecorded =
        Flux.fromIterable(poisonIds)
            .flatMap(id -> stores.store().find(pipelineName, id))
            .filter(r -> r.outcome() == RecordedOutcome.DEAD_LETTERED)
            .count()
            .block(Duration.ofSeconds(10));

    Map<TopicPartition, Long> end = kafka.endOffsets(TOPIC, PARTITIONS);
    Map<TopicPartition, OffsetAndMetadata> committed = kafka.committedOffsets(GROUP);
    Map<TopicPartition, Long> committedOffsets = new HashMap<>();
    committed.forEach((tp, om) -> committedOffsets.put(tp, om == null ? -1 : om.offset()));
    boolean allCommitted = end.equals(committedOffsets);

    out.println();
    out.println("report (" + stores.description() + ")");
    out.printf("  published           %,10d records (%,d orders)%n", published, ORDERS);
    out.printf("  delivered           %,10d%n", delivered);
    out.printf("  processed           %,10d%n", processed);
    if (processed < once) {
      // A completion recorded by consumer-1 whose ack the crash cut off: the record (and its
      // effect) exists, so consumer-2 received it again as a duplicate; nothing ran twice.
      out.printf(
          "    (%d orders completed by consumer-1 just before the crash, their acks cut off:"
              + " redelivered, skipped as duplicates)%n",
          once - processed);
    }
    out.printf("  duplicates skipped  %,10d%n", skipped);
    out.printf(
        "  dead-lettered       %,10d  (%d of %d poison orders recorded DEAD_LETTERED in the store)%n",
        dead, poisonRecorded, POISON);
    out.printf("  nacked (redelivered)%,10d%n", nacked);
    out.printf(
        "  in flight at crash  %,10d  (not acked: redelivered to consumer-2)%n", inFlightAtCrash);
    out.printf(
        "  effects applied     %,10d orders exactly once, %d more than once, %d poison with an"
            + " effect (%s)%n",
        once, more, poisonWithEffect, stores.effectLocation(pipelineName, "effects"));
    out.printf(
        "  committed offsets   %s%n",
        allCommitted ? "at the end of every partition" : committedOffsets + " vs end " + end);
    out.printf(
        "  throughput          %,10.0f deliveries/s over %.2f s of consuming%n",
        delivered / consumeSeconds, consumeSeconds);
    out.printf("  elapsed             %10.2f s in all (broker start included)%n", totalSeconds);
    out.println(steady.line());

    boolean balanced =
        a.balanced()
            && b.balanced()
            && b.inFlight() == 0
            && delivered >= published
            && delivered == processed + skipped + dead + nacked + a.inFlight()
            && processed <= ORDERS - POISON
            && once == ORDERS - POISON
            && more == 0
            && poisonWithEffect == 0
            && poisonRecorded == POISON
            && dead >= 1
            && allCommitted;
    stores.deleteEffects(pipelineName, "effects");
    out.println(
        balanced
            ? "ledger balanced: every order applied exactly once, every delivery accounted for"
            : "LEDGER DOES NOT BALANCE");
    return balanced ? 0 : 1;
  }
}
