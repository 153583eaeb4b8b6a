package dev.onceflow.sqs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.onceflow.core.BrokerKind;
import dev.onceflow.core.Envelope;
import dev.onceflow.core.Origin;
import dev.onceflow.deadletter.DeadLetter;
import dev.onceflow.handler.Handled;
import dev.onceflow.memory.InMemoryDeadLetters;
import dev.onceflow.memory.InMemoryIdempotencyStore;
import dev.onceflow.outcome.Ledger;
import dev.onceflow.pipeline.Decoder;
import dev.onceflow.pipeline.Dedup;
import dev.onceflow.pipeline.Onceflow;
import dev.onceflow.pipeline.Pipeline;
import dev.onceflow.pipeline.Retries;
import dev.onceflow.sqs.internal.SqsMessages;
import dev.onceflow.store.Effect;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

/** Whole pipelines over ElasticMQ queues: dedup, heartbeat, abrupt stop, FIFO order, DLQ. */
@ExtendWith(ElasticMqExtension.class)
class SqsPipelineIT {

  private static ElasticMq mq;

  @BeforeAll
  static void elasticMq() {
    mq = ElasticMqExtension.mq();
  }

  private static Envelope message(String id, String key, String payload) {
    return Envelope.builder()
        .messageId(id)
        .entityKey(key)
        .payload(payload.getBytes(StandardCharsets.UTF_8))
        .origin(new Origin(BrokerKind.SQS, "test", -1, -1, null, null, false, 0))
        .build();
  }

  private static SqsSourceOptions.Builder options(String queueUrl) {
    return SqsSourceOptions.builder()
        .client(mq.client())
        .queueUrl(queueUrl)
        .waitTime(Duration.ofSeconds(1));
  }

  @Test
  void tenThousandMessagesWithThirtyPercentDuplicatesAreEachHandledOnce() {
    String q = mq.createQueue("bulk");
    List<Envelope> messages = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      messages.add(message("id-" + i, "k-" + (i % 100), "payload-" + i));
    }
    Random random = new Random(7);
    for (int i = 0; i < 3_000; i++) {
      messages.add(messages.get(random.nextInt(10_000)));
    }
    Collections.shuffle(messages, random);
    long t0 = System.nanoTime();
    SqsPublisher.create(
            SqsPublisherOptions.builder().client(mq.client()).batchConcurrency(16).build())
        .publishAll(q, messages)
        .block(Duration.ofSeconds(60));
    long published = System.nanoTime();

    InMemoryIdempotencyStore store = InMemoryIdempotencyStore.create();
    Map<String, AtomicInteger> handled = new ConcurrentHashMap<>();
    Pipeline<String, String> p =
        Onceflow.consume(
                SqsSource.create(options(q).maxInFlight(300).maxConcurrentReceives(16).build()))
            .name("bulk")
            .decode(Decoder.utf8())
            .deduplicate(Dedup.byMessageId(store).inProgressBackoff(Duration.ofMillis(200)))
            .handle(
                m -> {
                  handled.computeIfAbsent(m.key(), k -> new AtomicInteger()).incrementAndGet();
                  return Mono.just(m.payload());
                })
            .deadLetterTo(InMemoryDeadLetters.create())
            .concurrency(256)
            .build();
    Disposable running = p.start();
    try {
      await()
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> p.ledger().processed() + p.ledger().duplicates() == 13_000);
      long consumed = System.nanoTime();
      System.out.printf(
          "SQS bulk: published 13000 in %d ms, consumed in %d ms (%.0f msg/s); %s%n",
          (published - t0) / 1_000_000,
          (consumed - published) / 1_000_000,
          13_000 / ((consumed - published) / 1e9),
          p.ledger());

      assertThat(handled).hasSize(10_000);
      assertThat(handled.values()).allSatisfy(c -> assertThat(c.get()).isEqualTo(1));
      Ledger l = p.ledger();
      assertThat(l.processed()).isEqualTo(10_000);
      assertThat(l.duplicates()).isEqualTo(3_000);
      assertThat(l.deadLettered()).isZero();
      assertThat(l.balanced()).isTrue();
      await().atMost(Duration.ofSeconds(10)).until(() -> mq.messagesLeft(q) == 0);
    } finally {
      p.stop(Duration.ofSeconds(5)).block(Duration.ofSeconds(10));
      running.dispose();
    }
  }

  @Test
  void handlerSlowerThanTheVisibilityTimeoutCompletesWithoutASecondDelivery() {
    String q = mq.createQueue("slow");
    SqsPublisher.create(mq.client())
        .publishAll(
            q, List.of(message("s1", "a", "x"), message("s2", "b", "y"), message("s3", "c", "z")))
        .block(Duration.ofSeconds(10));
    AtomicInteger runs = new AtomicInteger();
    Pipeline<byte[], Integer> p =
        Onceflow.consume(
                SqsSource.create(
                    options(q)
                        .visibilityTimeout(Duration.ofSeconds(2))
                        .heartbeatFraction(0.3)
                        .build()))
            .name("slow")
            .deduplicate(Dedup.byMessageId(InMemoryIdempotencyStore.create()))
            .handle(m -> Mono.delay(Duration.ofMillis(4500)).thenReturn(runs.incrementAndGet()))
            .deadLetterTo(InMemoryDeadLetters.create())
            .build();
    Disposable running = p.start();
    try {
      await().atMost(Duration.ofSeconds(20)).until(() -> p.ledger().processed() == 3);
      // Give a redelivery, if any, the time to show up.
      await()
          .during(Duration.ofSeconds(2))
          .atMost(Duration.ofSeconds(5))
          .until(() -> p.ledger().delivered() == 3);

      assertThat(runs.get()).isEqualTo(3);
      assertThat(p.ledger().duplicates()).isZero();
      assertThat(p.ledger().nacked()).isZero();
      assertThat(mq.messagesLeft(q)).isZero();
    } finally {
      p.stop(Duration.ofSeconds(5)).block(Duration.ofSeconds(10));
      running.dispose();
    }
  }

  @Test
  void consumerStoppedAbruptlyLosesNothingAndANewOneAppliesEachIdOnce() {
    String q = mq.createQueue("abrupt");
    List<Envelope> messages = new ArrayList<>();
    for (int i = 0; i < 600; i++) {
      messages.add(message("a-" + i, "k-" + (i % 20), "p" + i));
    }
    SqsPublisher.create(mq.client()).publishAll(q, messages).block(Duration.ofSeconds(30));
    InMemoryIdempotencyStore store = InMemoryIdempotencyStore.create();
    SqsSourceOptions o = options(q).visibilityTimeout(Duration.ofSeconds(2)).build();
    AtomicInteger runs = new AtomicInteger();

    Pipeline<String, String> first = pipeline("abrupt", o, store, runs);
    // Abrupt stop, no graceful one, cancelled from the outcome stream at the 200th outcome so
    // that "mid-stream" holds however fast the machine is.
    first.outcomes().take(200).then().block(Duration.ofSeconds(20));
    assertThat(first.ledger().processed()).isLessThan(600);

    Pipeline<String, String> second = pipeline("abrupt", o, store, runs);
    Disposable again = second.start();
    try {
      await()
          .atMost(Duration.ofSeconds(40))
          .until(() -> store.data().hash("abrupt", "applied").size() == 600);
      await().atMost(Duration.ofSeconds(20)).until(() -> mq.messagesLeft(q) == 0);

      Map<String, String> applied = store.data().hash("abrupt", "applied");
      assertThat(applied).hasSize(600);
      assertThat(applied.values()).containsOnly("1");
      // Every id is accounted for: completed by the first consumer (acked, or still being acked
      // when it was cut off and so counted nacked there), or completed / found completed by the
      // second one. A message slower than the 2 s visibility timeout on a loaded machine comes back
      // to the first consumer too, which then finds it completed (a duplicate there).
      Ledger a = first.ledger();
      Ledger b = second.ledger();
      assertThat(a.processed() + b.processed()).isLessThanOrEqualTo(600);
      assertThat(a.processed() + a.duplicates() + a.nacked() + b.processed() + b.duplicates())
          .isGreaterThanOrEqualTo(600);
      assertThat(second.ledger().deadLettered()).isZero();
      // Handler runs: 600 plus at most the first consumer's unfinished ones (at-least-once).
      assertThat(runs.get()).isBetween(600, 600 + 64);
    } finally {
      second.stop(Duration.ofSeconds(5)).block(Duration.ofSeconds(10));
      again.dispose();
    }
  }

  private static Pipeline<String, String> pipeline(
      String name, SqsSourceOptions o, InMemoryIdempotencyStore store, AtomicInteger runs) {
    return Onceflow.consume(SqsSource.create(o))
        .name(name)
        .decode(Decoder.utf8())
        .deduplicate(
            Dedup.byMessageId(store)
                .lease(Duration.ofSeconds(2))
                .inProgressBackoff(Duration.ofMillis(500)))
        .handleWithEffects(
            m -> {
              runs.incrementAndGet();
              return Mono.delay(Duration.ofMillis(5))
                  .thenReturn(Handled.of(m.payload(), Effect.hincrBy("applied", m.key(), 1)));
            })
        .deadLetterTo(InMemoryDeadLetters.create())
        .concurrency(32)
        .build();
  }

  @Test
  void fifoQueueKeepsPerGroupOrderUnderConcurrencyAndThePublisherSetsTheDedupId() {
    String q = mq.createFifoQueue("orders");
    int groups = 8;
    int perGroup = 40;
    List<Envelope> messages = new ArrayList<>();
    for (int s = 0; s < perGroup; s++) {
      for (int g = 0; g < groups; g++) {
        messages.add(message("g" + g + "-" + s, "group-" + g, Integer.toString(s)));
      }
    }
    SqsPublisher publisher = SqsPublisher.create(mq.client());
    publisher.publishAll(q, messages).block(Duration.ofSeconds(30));
    // The same ids again: SQS drops them by MessageDeduplicationId.
    publisher.publishAll(q, messages.subList(0, 50)).block(Duration.ofSeconds(30));

    Map<String, List<Integer>> seen = new ConcurrentHashMap<>();
    List<String> dedupIdMismatches = new CopyOnWriteArrayList<>();
    Random random = new Random(3);
    Pipeline<String, String> p =
        Onceflow.consume(
                SqsSource.create(
                    options(q)
                        .systemAttributeNames(
                            List.of(MessageSystemAttributeName.MESSAGE_DEDUPLICATION_ID))
                        .build()))
            .name("fifo")
            .decode(Decoder.utf8())
            .deduplicate(Dedup.byMessageId(InMemoryIdempotencyStore.create()))
            .handle(
                m -> {
                  Envelope e = m.envelope();
                  if (!e.messageId().equals(e.headers().get("sqs-MessageDeduplicationId"))) {
                    dedupIdMismatches.add(e.messageId());
                  }
                  seen.computeIfAbsent(e.entityKey(), k -> new CopyOnWriteArrayList<>())
                      .add(Integer.parseInt(m.payload()));
                  return Mono.delay(Duration.ofMillis(random.nextInt(5))).thenReturn(m.payload());
                })
            .deadLetterTo(InMemoryDeadLetters.create())
            .concurrency(16)
            .orderedByKey()
            .build();
    Disposable running = p.start();
    try {
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> p.ledger().processed() == groups * perGroup);
      await()
          .during(Duration.ofSeconds(1))
          .atMost(Duration.ofSeconds(3))
          .until(() -> p.ledger().delivered() == groups * perGroup);

      List<Integer> expected = new ArrayList<>();
      for (int s = 0; s < perGroup; s++) {
        expected.add(s);
      }
      assertThat(seen).hasSize(groups);
      seen.forEach((group, order) -> assertThat(order).as(group).isEqualTo(expected));
      assertThat(dedupIdMismatches).isEmpty();
      assertThat(p.ledger().duplicates()).as("SQS dropped the re-published copies").isZero();
      assertThat(mq.messagesLeft(q)).isZero();
    } finally {
      p.stop(Duration.ofSeconds(5)).block(Duration.ofSeconds(10));
      running.dispose();
    }
  }

  @Test
  void foreignMessagesWithOnlyACloudEventsIdOrACustomIdAttributeAreDeduplicatedByThatId() {
    String q = mq.createQueue("foreign");
    String[][] sent = {
      {"ce-id", "evt-1"},
      {"ce-id", "evt-1"},
      {"ce_id", "evt-2"},
      {"X-Message-Id", "custom-1"},
      {"X-Message-Id", "custom-1"},
    };
    for (String[] a : sent) {
      mq.client()
          .sendMessage(
              b ->
                  b.queueUrl(q)
                      .messageBody("same")
                      .messageAttributes(
                          Map.of(
                              a[0],
                              MessageAttributeValue.builder()
                                  .dataType("String")
                                  .stringValue(a[1])
                                  .build())))
          .join();
    }
    Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    Pipeline<String, String> p =
        Onceflow.consume(SqsSource.create(options(q).idHeader("X-Message-Id").build()))
            .name("foreign")
            .decode(Decoder.utf8())
            .deduplicate(Dedup.byMessageId(InMemoryIdempotencyStore.create()))
            .handle(
                m -> {
                  runs.computeIfAbsent(m.key(), k -> new AtomicInteger()).incrementAndGet();
                  return Mono.just(m.payload());
                })
            .deadLetterTo(dev.onceflow.memory.InMemoryDeadLetters.create())
            .concurrency(1)
            .build();
    Disposable running = p.start();
    try {
      await()
          .atMost(Duration.ofSeconds(15))
          .until(() -> p.ledger().processed() + p.ledger().duplicates() == sent.length);
      assertThat(p.ledger().processed()).as(p.ledger().toString()).isEqualTo(3);
      assertThat(p.ledger().duplicates()).isEqualTo(2);
      assertThat(runs.keySet()).containsExactlyInAnyOrder("evt-1", "evt-2", "custom-1");
      assertThat(runs.values()).allSatisfy(n -> assertThat(n.get()).isEqualTo(1));
      await().atMost(Duration.ofSeconds(10)).until(() -> mq.messagesLeft(q) == 0);
    } finally {
      p.stop(Duration.ofSeconds(5)).block(Duration.ofSeconds(10));
      running.dispose();
    }
  }

  @Test
  void poisonMessageGoesToTheDeadLetterQueueWithMetadataAndIsDeleted() {
    String q = mq.createQueue("poison-src");
    String dlq = mq.createQueue("poison-dlq");
    SqsPublisher.create(mq.client())
        .publishAll(
            q,
            List.of(
                message("ok-1", "a", "fine"),
                message("bad-1", "b", "poison"),
                message("ok-2", "c", "fine")))
        .block(Duration.ofSeconds(10));
    Pipeline<String, String> p =
        Onceflow.consume(SqsSource.create(options(q).build()))
            .name("poison")
            .decode(Decoder.utf8())
            .deduplicate(Dedup.byMessageId(InMemoryIdempotencyStore.create()))
            .handle(
                m ->
                    m.payload().equals("poison")
                        ? Mono.error(new IllegalStateException("cannot digest " + m.key()))
                        : Mono.just(m.payload()))
            .retry(Retries.exponential(3, Duration.ofMillis(10)))
            .deadLetterTo(SqsDeadLetter.create(mq.client(), dlq))
            .build();
    Disposable running = p.start();
    try {
      await()
          .atMost(Duration.ofSeconds(15))
          .until(() -> p.ledger().processed() == 2 && p.ledger().deadLettered() == 1);
      await().atMost(Duration.ofSeconds(10)).until(() -> mq.messagesLeft(q) == 0);

      var dead =
          SqsSource.create(options(dlq).build()).receive().blockFirst(Duration.ofSeconds(10));
      Envelope e = dead.envelope();
      assertThat(e.messageId()).isEqualTo("bad-1");
      assertThat(e.entityKey()).isEqualTo("b");
      assertThat(new String(e.payload(), StandardCharsets.UTF_8)).isEqualTo("poison");
      Map<String, String> h = e.headers();
      assertThat(h).containsEntry(DeadLetter.REASON, "HANDLER_FAILED");
      assertThat(h)
          .containsEntry(DeadLetter.EXCEPTION_CLASS, IllegalStateException.class.getName());
      assertThat(h).containsEntry(DeadLetter.EXCEPTION_MESSAGE, "cannot digest bad-1");
      assertThat(h).containsEntry(DeadLetter.ATTEMPTS, "3");
      assertThat(h).containsEntry(DeadLetter.PIPELINE, "poison");
      assertThat(h).containsEntry(DeadLetter.DEDUP_KEY, "bad-1");
      assertThat(h).containsEntry(DeadLetter.ORIGIN_DESTINATION, SqsMessages.queueNameOf(q));
      assertThat(h)
          .containsKeys(
              DeadLetter.FIRST_FAILURE, DeadLetter.LAST_FAILURE, DeadLetter.ORIGIN_MESSAGE_ID);
      assertThat(mq.messagesLeft(dlq)).isEqualTo(1);
    } finally {
      p.stop(Duration.ofSeconds(5)).block(Duration.ofSeconds(10));
      running.dispose();
    }
  }
}
