package dev.onceflow.kafka;

import static dev.onceflow.kafka.KafkaTestSupport.committed;
import static dev.onceflow.kafka.KafkaTestSupport.endOffsets;
import static dev.onceflow.kafka.KafkaTestSupport.kafka;
import static dev.onceflow.kafka.KafkaTestSupport.options;
import static dev.onceflow.kafka.KafkaTestSupport.produce;
import static dev.onceflow.kafka.KafkaTestSupport.produceForeign;
import static dev.onceflow.kafka.KafkaTestSupport.readAll;
import static dev.onceflow.kafka.KafkaTestSupport.unique;
import static dev.onceflow.kafka.KafkaTestSupport.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.onceflow.deadletter.DeadLetter;
import dev.onceflow.handler.Message;
import dev.onceflow.kafka.KafkaTestSupport.Raw;
import dev.onceflow.kafka.internal.KafkaEnvelopes;
import dev.onceflow.memory.InMemoryDeadLetters;
import dev.onceflow.memory.InMemoryIdempotencyStore;
import dev.onceflow.outcome.Ledger;
import dev.onceflow.outcome.Outcome;
import dev.onceflow.pipeline.Dedup;
import dev.onceflow.pipeline.Onceflow;
import dev.onceflow.pipeline.Pipeline;
import dev.onceflow.pipeline.Retries;
import dev.onceflow.store.IdempotencyStore;
import dev.onceflow.store.RecordedOutcome;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;

/** Whole pipelines over the Kafka source, the Kafka dead-letter topic and the in-memory store. */
@ExtendWith(SharedKafka.class)
class KafkaPipelineIT {

  private static final Duration STOP = Duration.ofSeconds(10);

  /** Counts handler runs per message id. */
  private static final class Runs {
    final Map<String, AtomicInteger> byId = new ConcurrentHashMap<>();

    void run(Message<byte[]> m) {
      byId.computeIfAbsent(m.envelope().messageId(), k -> new AtomicInteger()).incrementAndGet();
    }

    long total() {
      return byId.values().stream().mapToLong(AtomicInteger::get).sum();
    }
  }

  private static Pipeline<byte[], String> pipeline(
      String name,
      KafkaSource source,
      IdempotencyStore store,
      Function<Message<byte[]>, Mono<String>> handler) {
    return Onceflow.consume(source)
        .name(name)
        .deduplicate(Dedup.byMessageId(store).lease(Duration.ofSeconds(3)))
        .handle(handler::apply)
        .deadLetterTo(InMemoryDeadLetters.create())
        .concurrency(64)
        .build();
  }

  private static Mono<String> jitter(Message<byte[]> m, Runs runs) {
    return Mono.delay(
            Duration.ofMillis(ThreadLocalRandom.current().nextInt(4)), Schedulers.parallel())
        .doOnNext(x -> runs.run(m))
        .thenReturn("ok");
  }

  private static void awaitAllCommitted(String group, String topic, int partitions) {
    long[] end = endOffsets(topic, partitions);
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(() -> assertThat(committed(group, topic, partitions)).isEqualTo(end));
  }

  @Test
  void tenThousandRecordsWithThirtyPercentDuplicatesAreEachHandledOnce() {
    String topic = unique("dedup");
    String group = unique("g");
    int unique = 7_000;
    int duplicates = 3_000;
    kafka().createTopic(topic, 4);
    Random random = new Random(7);
    List<Raw> records = new ArrayList<>();
    IntStream.range(0, unique).forEach(i -> records.add(new Raw("k-" + i, "id-" + i, "p-" + i)));
    for (int i = 0; i < duplicates; i++) {
      int of = random.nextInt(unique);
      // Same id and payload, re-sent (possibly to another partition, under another key).
      records.add(new Raw("dup-" + random.nextInt(1000), "id-" + of, "p-" + of));
    }
    Collections.shuffle(records, random);
    produce(topic, records);

    Runs runs = new Runs();
    Pipeline<byte[], String> p =
        pipeline(
            "dedup",
            KafkaSource.create(options(topic, group).build()),
            InMemoryIdempotencyStore.create(),
            m -> {
              runs.run(m);
              return Mono.just("ok");
            });
    long t0 = System.nanoTime();
    Disposable running = p.start();
    try {
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> finished(p.ledger()) == unique + duplicates);
      long millis = (System.nanoTime() - t0) / 1_000_000;
      System.out.printf(
          "dedup: %d records (%d duplicates) in %d ms, %d records/s, ledger %s%n",
          unique + duplicates,
          duplicates,
          millis,
          (unique + duplicates) * 1000L / Math.max(1, millis),
          p.ledger());

      Ledger l = p.ledger();
      assertThat(runs.byId).hasSize(unique);
      assertThat(runs.byId.values()).allSatisfy(n -> assertThat(n.get()).isEqualTo(1));
      assertThat(l.processed()).isEqualTo(unique);
      assertThat(l.duplicates()).isEqualTo(duplicates);
      assertThat(l.deadLettered()).isZero();
      assertThat(l.balanced()).isTrue();
      awaitAllCommitted(group, topic, 4);
    } finally {
      p.stop(STOP).block(STOP.plusSeconds(5));
      running.dispose();
    }
  }

  @Test
  void foreignRecordsWithOnlyACloudEventsIdOrACustomIdHeaderAreDeduplicatedByThatId() {
    String topic = unique("foreign");
    String group = unique("g");
    kafka().createTopic(topic, 2);
    produceForeign(topic, "a", Map.of("ce_id", "evt-1", "ce_source", "/billing"), "one");
    produceForeign(topic, "b", Map.of("ce_id", "evt-1", "ce_source", "/billing"), "one");
    produceForeign(topic, "c", Map.of("X-Message-Id", "custom-1"), "two");
    produceForeign(topic, "d", Map.of("X-Message-Id", "custom-1"), "two");
    produceForeign(topic, "e", Map.of("X-Message-Id", "custom-2", "ce_id", "evt-2"), "three");

    Runs runs = new Runs();
    Pipeline<byte[], String> p =
        pipeline(
            "foreign",
            KafkaSource.create(options(topic, group).idHeader("X-Message-Id").build()),
            InMemoryIdempotencyStore.create(),
            m -> {
              runs.run(m);
              return Mono.just("ok");
            });
    Disposable running = p.start();
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> finished(p.ledger()) == 5);
      assertThat(p.ledger().processed()).as(p.ledger().toString()).isEqualTo(3);
      assertThat(p.ledger().duplicates()).as(p.ledger().toString()).isEqualTo(2);
      assertThat(p.ledger().duplicates()).isEqualTo(2);
      assertThat(runs.byId.keySet())
          .as("the configured header wins over ce_id")
          .containsExactlyInAnyOrder("evt-1", "custom-1", "custom-2");
      assertThat(runs.total()).isEqualTo(3);
    } finally {
      p.stop(STOP).block(STOP.multipliedBy(2));
      running.dispose();
    }
  }

  @Test
  void aPipelineKilledMidStreamLosesNothingAndReRunsAtMostWhatWasInFlight() {
    String topic = unique("kill");
    String group = unique("g");
    int total = 3_000;
    kafka().createTopic(topic, 3);
    produce(
        topic,
        IntStream.range(0, total).mapToObj(i -> new Raw("k-" + i, "id-" + i, "p-" + i)).toList());
    InMemoryIdempotencyStore store = InMemoryIdempotencyStore.create();
    Runs runs = new Runs();

    Pipeline<byte[], String> first =
        pipeline(
            "kill", KafkaSource.create(options(topic, group).build()), store, m -> jitter(m, runs));
    // Abrupt stop, no graceful one: the subscription is cancelled at the (total/3)-th outcome,
    // with the rest of the window in flight. Cancelling from the outcome stream, not from a
    // polling thread, makes "mid-stream" hold however fast the machine is.
    first.outcomes().take(total / 3).then().block(Duration.ofSeconds(60));
    long processedBeforeKill = first.ledger().processed();

    Pipeline<byte[], String> second =
        pipeline(
            "kill", KafkaSource.create(options(topic, group).build()), store, m -> jitter(m, runs));
    Disposable running = second.start();
    try {
      // Nothing lost: every offset gets committed, and every id has a recorded outcome.
      awaitAllCommitted(group, topic, 3);
      assertThat(processedBeforeKill).isLessThan(total);
      List<String> notRecorded =
          Flux.range(0, total)
              .map(i -> "id-" + i)
              .filterWhen(
                  id ->
                      store
                          .find("kill", id)
                          .map(r -> r.outcome() != RecordedOutcome.PROCESSED)
                          .defaultIfEmpty(true))
              .collectList()
              .block(Duration.ofSeconds(30));
      assertThat(notRecorded).isEmpty();
      assertThat(runs.byId).hasSize(total);
      long reRuns = runs.total() - total;
      assertThat(reRuns)
          .as("handler re-runs: only what was in flight at the kill")
          .isBetween(0L, 64L);
    } finally {
      second.stop(STOP).block(STOP.plusSeconds(5));
      running.dispose();
    }
  }

  @Test
  void aPoisonRecordIsDeadLetteredWithItsHeadersAndThePartitionKeepsFlowing() {
    String topic = unique("poison");
    String dlq = topic + ".DLT";
    String group = unique("g");
    kafka().createTopic(topic, 1).createTopic(dlq, 1);
    produce(
        topic,
        IntStream.range(0, 20)
            .mapToObj(i -> new Raw("k-" + i, "id-" + i, i == 5 ? "poison" : "p-" + i))
            .toList());

    try (KafkaDeadLetter deadLetters = KafkaDeadLetter.create(kafka().bootstrapServers(), dlq)) {
      Pipeline<byte[], String> p =
          Onceflow.consume(KafkaSource.create(options(topic, group).build()))
              .name("poison")
              .deduplicate(Dedup.byMessageId(InMemoryIdempotencyStore.create()))
              .handle(
                  m ->
                      utf8(m.payload()).equals("poison")
                          ? Mono.<String>error(new IllegalArgumentException("cannot parse"))
                          : Mono.just("ok"))
              .retry(Retries.exponential(3, Duration.ofMillis(10)))
              .deadLetterTo(deadLetters)
              .build();
      Disposable running = p.start();
      try {
        await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> p.ledger().processed() == 19 && p.ledger().deadLettered() == 1);
        awaitAllCommitted(group, topic, 1);

        List<ConsumerRecord<byte[], byte[]>> dead = readAll(dlq, 1, Duration.ofSeconds(30));
        assertThat(dead).hasSize(1);
        assertThat(utf8(dead.get(0).value())).isEqualTo("poison");
        assertThat(utf8(dead.get(0).key())).isEqualTo("k-5");
        Map<String, String> h = KafkaEnvelopes.headers(dead.get(0).headers());
        assertThat(h)
            .containsEntry("onceflow-id", "id-5")
            .containsEntry(DeadLetter.REASON, "HANDLER_FAILED")
            .containsEntry(DeadLetter.EXCEPTION_CLASS, IllegalArgumentException.class.getName())
            .containsEntry(DeadLetter.EXCEPTION_MESSAGE, "cannot parse")
            .containsEntry(DeadLetter.ATTEMPTS, "3")
            .containsEntry(DeadLetter.PIPELINE, "poison")
            .containsEntry(DeadLetter.DEDUP_KEY, "id-5")
            .containsEntry(DeadLetter.ORIGIN_DESTINATION, topic)
            .containsEntry(DeadLetter.ORIGIN_PARTITION, "0")
            .containsEntry(DeadLetter.ORIGIN_OFFSET, "5")
            .containsKeys(DeadLetter.FIRST_FAILURE, DeadLetter.LAST_FAILURE, DeadLetter.ORIGIN);
      } finally {
        p.stop(STOP).block(STOP.plusSeconds(5));
        running.dispose();
      }
    }
  }

  @Test
  void anOpenBreakerPausesTheConsumerWithABoundedFetchAndItResumes() {
    String topic = unique("breaker");
    String group = unique("g");
    int total = 2_000;
    int maxInFlight = 64;
    int maxPollRecords = 50;
    kafka().createTopic(topic, 1);
    produce(
        topic,
        IntStream.range(0, total).mapToObj(i -> new Raw("k-" + i, "id-" + i, "p-" + i)).toList());
    CircuitBreaker breaker =
        CircuitBreaker.of(
            "billing",
            CircuitBreakerConfig.custom()
                .slidingWindowSize(10)
                .minimumNumberOfCalls(5)
                .failureRateThreshold(50)
                .waitDurationInOpenState(Duration.ofMillis(300))
                .permittedNumberOfCallsInHalfOpenState(2)
                .build());
    AtomicBoolean outage = new AtomicBoolean(true);
    KafkaSource source =
        KafkaSource.create(
            options(topic, group)
                .maxInFlight(maxInFlight)
                .consumerProperty(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, maxPollRecords)
                .build());
    Pipeline<byte[], String> p =
        Onceflow.consume(source)
            .name("breaker")
            .deduplicate(Dedup.byMessageId(InMemoryIdempotencyStore.create()))
            .handle(
                m ->
                    outage.get()
                        ? Mono.<String>error(new IllegalStateException("billing is down"))
                        : Mono.just("ok"))
            .retry(Retries.exponential(20, Duration.ofMillis(10)))
            .circuitBreaker(breaker)
            .deadLetterTo(InMemoryDeadLetters.create())
            .concurrency(16)
            .build();
    Disposable running = p.start();
    try {
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> breaker.getState() != CircuitBreaker.State.CLOSED);
      // Paused: what was fetched stops growing, and stays far below the backlog.
      long[] last = {-1};
      await()
          .atMost(Duration.ofSeconds(20))
          .pollInterval(Duration.ofMillis(500))
          .until(
              () -> {
                long now = source.counters().polled();
                boolean stable = now == last[0];
                last[0] = now;
                return stable;
              });
      long polled = source.counters().polled();
      assertThat(polled)
          .as("fetched while the breaker is open (maxInFlight + about two polls)")
          .isLessThanOrEqualTo(maxInFlight + 4L * maxPollRecords);
      assertThat(source.counters().maxHeld()).isLessThanOrEqualTo(maxInFlight);
      assertThat(p.ledger().processed()).isZero();

      outage.set(false);
      await().atMost(Duration.ofSeconds(60)).until(() -> p.ledger().processed() == total);
      assertThat(p.ledger().deadLettered()).as("an outage is not poison").isZero();
      assertThat(breaker.getState()).isEqualTo(CircuitBreaker.State.CLOSED);
      awaitAllCommitted(group, topic, 1);
    } finally {
      p.stop(STOP).block(STOP.plusSeconds(5));
      running.dispose();
    }
  }

  @Test
  void twoConsumersInOneGroupWithARebalanceMidStreamHandleEachIdOnce() {
    String topic = unique("rebalance");
    String group = unique("g");
    int total = 4_000;
    kafka().createTopic(topic, 4);
    produce(
        topic,
        IntStream.range(0, total).mapToObj(i -> new Raw("k-" + i, "id-" + i, "p-" + i)).toList());
    InMemoryIdempotencyStore store = InMemoryIdempotencyStore.create();
    Runs runs = new Runs();
    Set<String> processed = ConcurrentHashMap.newKeySet();

    KafkaSource sourceA = KafkaSource.create(options(topic, group).build());
    KafkaSource sourceB = KafkaSource.create(options(topic, group).build());
    // Once A has done a quarter, its handlers wait until B got deliveries: the rebalance happens
    // while A has records in flight, and they finish after their partitions were revoked.
    Sinks.Empty<Void> bJoined = Sinks.empty();
    Pipeline<byte[], String> a =
        pipeline(
            "rebalance",
            sourceA,
            store,
            m ->
                runs.total() >= total / 4
                    ? bJoined.asMono().then(jitter(m, runs))
                    : jitter(m, runs));
    Pipeline<byte[], String> b = pipeline("rebalance", sourceB, store, m -> jitter(m, runs));
    Disposable runningA = a.outcomes().subscribe(o -> collect(o, processed));
    Disposable runningB = null;
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> runs.total() >= total / 4);
      runningB = b.outcomes().subscribe(o -> collect(o, processed)); // joins: rebalance
      await().atMost(Duration.ofSeconds(60)).until(() -> b.ledger().delivered() > 0);
      bJoined.tryEmitEmpty();
      await().atMost(Duration.ofSeconds(60)).until(() -> processed.size() == total);
      await().atMost(Duration.ofSeconds(10)).until(() -> a.ledger().inFlight() == 0);

      assertThat(b.ledger().delivered())
          .as("the second consumer took partitions over")
          .isPositive();
      assertThat(runs.byId).hasSize(total);
      assertThat(runs.byId.values()).allSatisfy(n -> assertThat(n.get()).isEqualTo(1));
      assertThat(a.ledger().processed() + b.ledger().processed()).isEqualTo(total);
      awaitAllCommitted(group, topic, 4);
      System.out.printf(
          "rebalance: A %s | B %s | A stale settlements %d, stale records dropped %d%n",
          a.ledger(),
          b.ledger(),
          sourceA.counters().settledAfterRevocation(),
          sourceA.counters().staleDropped());
    } finally {
      a.stop(STOP).block(STOP.plusSeconds(5));
      b.stop(STOP).block(STOP.plusSeconds(5));
      runningA.dispose();
      if (runningB != null) {
        runningB.dispose();
      }
    }
  }

  private static long finished(Ledger l) {
    return l.processed() + l.duplicates() + l.deadLettered();
  }

  private static void collect(Outcome<String> o, Set<String> processed) {
    if (o instanceof Outcome.Processed<String> p) {
      processed.add(p.key());
    }
  }
}
