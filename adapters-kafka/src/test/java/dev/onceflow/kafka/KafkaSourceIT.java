package dev.onceflow.kafka;

import static dev.onceflow.kafka.KafkaTestSupport.committed;
import static dev.onceflow.kafka.KafkaTestSupport.endOffsets;
import static dev.onceflow.kafka.KafkaTestSupport.kafka;
import static dev.onceflow.kafka.KafkaTestSupport.options;
import static dev.onceflow.kafka.KafkaTestSupport.produce;
import static dev.onceflow.kafka.KafkaTestSupport.unique;
import static dev.onceflow.kafka.KafkaTestSupport.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.onceflow.core.Delivery;
import dev.onceflow.core.Envelope;
import dev.onceflow.kafka.KafkaTestSupport.Raw;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.RangeAssignor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.reactivestreams.Subscription;
import reactor.core.Disposable;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/** The source against a real broker: commits, nacks, backpressure, kills and rebalances. */
@ExtendWith(SharedKafka.class)
class KafkaSourceIT {

  private static List<Raw> records(String prefix, int n) {
    return IntStream.range(0, n)
        .mapToObj(i -> new Raw("k-" + i, prefix + "-" + i, "payload-" + i))
        .toList();
  }

  @Test
  void deliversConventionEnvelopesAndCommitsOnlyAfterTheAck() {
    String topic = unique("deliver");
    String group = unique("g");
    kafka().createTopic(topic, 1);
    try (KafkaPublisher publisher = KafkaPublisher.create(kafka().bootstrapServers())) {
      for (int i = 0; i < 5; i++) {
        publisher
            .publish(
                topic,
                Envelope.builder()
                    .entityKey("key-" + i)
                    .correlationId("c")
                    .payload(("p" + i).getBytes(java.nio.charset.StandardCharsets.UTF_8))
                    .build())
            .block(Duration.ofSeconds(30));
      }
    }
    KafkaSource source = KafkaSource.create(options(topic, group).build());
    assertThat(source.name()).isEqualTo("kafka:" + topic);
    List<Delivery> got = new CopyOnWriteArrayList<>();
    Disposable running = source.receive().subscribe(got::add);
    try {
      await().atMost(Duration.ofSeconds(30)).until(() -> got.size() == 5);
      Envelope first = got.get(0).envelope();
      assertThat(first.messageId()).isNotBlank();
      assertThat(first.entityKey()).isEqualTo("key-0");
      assertThat(first.producerId()).startsWith("onceflow-");
      assertThat(first.sequence()).isEqualTo(1L);
      assertThat(first.correlationId()).isEqualTo("c");
      assertThat(first.timestamp()).isNotNull();
      assertThat(utf8(first.payload())).isEqualTo("p0");
      assertThat(first.origin().describe()).isEqualTo("kafka:" + topic + "/0@0");
      assertThat(got.stream().map(d -> d.envelope().sequence()).toList())
          .containsExactly(1L, 2L, 3L, 4L, 5L);

      // Nothing acked: nothing committed, even after several commit intervals.
      await().during(Duration.ofMillis(400)).until(() -> committed(group, topic, 1)[0] == -1);

      Flux.fromIterable(got).concatMap(Delivery::ack).blockLast(Duration.ofSeconds(10));
      await().atMost(Duration.ofSeconds(10)).until(() -> committed(group, topic, 1)[0] == 5);
      assertThat(source.counters().acked()).isEqualTo(5);
    } finally {
      running.dispose();
    }
  }

  @Test
  void outOfOrderAcksNeverCommitPastAnUnfinishedRecordAndAKilledConsumerLosesNothing() {
    String topic = unique("ooo");
    String group = unique("g");
    int partitions = 3;
    int total = 3000;
    kafka().createTopic(topic, partitions);
    produce(topic, records("ooo", total));
    Set<Long> heldBackOffsets = Set.of(137L, 637L);

    KafkaSource first = KafkaSource.create(options(topic, group).build());
    Set<String> acked = ConcurrentHashMap.newKeySet();
    List<Delivery> heldBack = new CopyOnWriteArrayList<>();
    Map<Integer, Long> lastAckedOffset = new ConcurrentHashMap<>();
    AtomicLong outOfOrder = new AtomicLong();
    Disposable killed =
        first
            .receive()
            .flatMap(
                d -> {
                  Envelope e = d.envelope();
                  if (heldBackOffsets.contains(e.origin().offset())) {
                    heldBack.add(d); // never settled: it must hold its partition's commit
                    return Mono.empty();
                  }
                  return Mono.delay(
                          Duration.ofMillis(ThreadLocalRandom.current().nextInt(4)),
                          Schedulers.parallel())
                      .then(d.ack())
                      .doOnSuccess(
                          v -> {
                            acked.add(e.messageId());
                            Long prev =
                                lastAckedOffset.put(e.origin().partition(), e.origin().offset());
                            if (prev != null && prev > e.origin().offset()) {
                              outOfOrder.incrementAndGet();
                            }
                          });
                },
                64)
            .subscribe();

    // While it runs, sample the committed offsets: they must never pass the held-back record.
    List<long[]> samples = new CopyOnWriteArrayList<>();
    AtomicBoolean sampling = new AtomicBoolean(true);
    Disposable sampler =
        Flux.interval(Duration.ofMillis(50), Schedulers.boundedElastic())
            .takeWhile(i -> sampling.get())
            .subscribe(i -> samples.add(committed(group, topic, partitions)));
    await().atMost(Duration.ofSeconds(60)).until(() -> acked.size() >= total / 2);
    killed.dispose(); // abrupt: no graceful stop
    await().atMost(Duration.ofSeconds(10)).until(() -> samples.size() > 10);
    sampling.set(false);
    sampler.dispose();

    assertThat(outOfOrder.get()).as("records completed out of order").isPositive();
    assertThat(heldBack).isNotEmpty();
    long[] afterKill = committed(group, topic, partitions);
    samples.add(afterKill);
    for (long[] s : samples) {
      for (int p = 0; p < partitions; p++) {
        assertThat(s[p]).as("committed offset of partition %d", p).isLessThanOrEqualTo(137);
      }
    }
    assertThat(Arrays.stream(afterKill).max().orElse(-1))
        .as("the finished prefix was committed")
        .isPositive();

    // A new consumer of the same group finishes the job: nothing is lost.
    KafkaSource second = KafkaSource.create(options(topic, group).build());
    Set<String> handledBySecond = ConcurrentHashMap.newKeySet();
    Disposable resumed =
        second
            .receive()
            .flatMap(
                d -> d.ack().doOnSuccess(v -> handledBySecond.add(d.envelope().messageId())), 64)
            .subscribe();
    try {
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> union(acked, handledBySecond).size() == total);
      for (Delivery d : heldBack) {
        assertThat(handledBySecond).contains(d.envelope().messageId());
      }
      long[] end = endOffsets(topic, partitions);
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(() -> assertThat(committed(group, topic, partitions)).isEqualTo(end));
    } finally {
      resumed.dispose();
    }
  }

  @Test
  void aNackedRecordComesBackAfterItsDelayAndHoldsTheCommitMeanwhile() {
    String topic = unique("nack");
    String group = unique("g");
    kafka().createTopic(topic, 1);
    produce(topic, records("nack", 5));
    KafkaSource source = KafkaSource.create(options(topic, group).build());
    List<Delivery> got = new CopyOnWriteArrayList<>();
    List<Long> arrivals = new CopyOnWriteArrayList<>();
    Disposable running =
        source
            .receive()
            .subscribe(
                d -> {
                  got.add(d);
                  arrivals.add(System.nanoTime());
                });
    try {
      await().atMost(Duration.ofSeconds(30)).until(() -> got.size() == 5);
      Delivery nacked = got.get(2);
      long nackedAt = System.nanoTime();
      nacked.nack(Duration.ofMillis(400)).block();
      for (int i : new int[] {0, 1, 3, 4}) {
        got.get(i).ack().block();
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> committed(group, topic, 1)[0] == 2);
      await().atMost(Duration.ofSeconds(10)).until(() -> got.size() == 6);

      Delivery again = got.get(5);
      assertThat(again.envelope().messageId()).isEqualTo(nacked.envelope().messageId());
      assertThat(again.envelope().origin().offset()).isEqualTo(2);
      assertThat(again.envelope().origin().redelivered()).isTrue();
      assertThat(Duration.ofNanos(arrivals.get(5) - nackedAt))
          .isGreaterThanOrEqualTo(Duration.ofMillis(400));
      assertThat(committed(group, topic, 1)[0]).as("still held by the nacked record").isEqualTo(2);
      assertThat(nacked.nack(Duration.ZERO).block(Duration.ofSeconds(1)))
          .as("settling twice is a no-op")
          .isNull();

      again.ack().block();
      await().atMost(Duration.ofSeconds(10)).until(() -> committed(group, topic, 1)[0] == 5);
      assertThat(source.counters().redelivered()).isEqualTo(1);
    } finally {
      running.dispose();
    }
  }

  @Test
  void withoutDemandTheConsumerFetchesOnlyABoundedNumberOfRecords() {
    String topic = unique("demand");
    String group = unique("g");
    int total = 2000;
    kafka().createTopic(topic, 1);
    produce(topic, records("demand", total));
    KafkaSource source =
        KafkaSource.create(
            options(topic, group)
                .maxInFlight(1000)
                .consumerProperty(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 50)
                .build());
    Manual subscriber = new Manual(10);
    source.receive().subscribe(subscriber);
    try {
      await().atMost(Duration.ofSeconds(30)).until(() -> subscriber.received.size() == 10);
      await()
          .during(Duration.ofMillis(600))
          .atMost(Duration.ofSeconds(5))
          .until(() -> subscriber.received.size() == 10);
      long polled = source.counters().polled();
      assertThat(polled)
          .as("records fetched without demand: about two polls of 50, not the backlog")
          .isLessThanOrEqualTo(10 + 4 * 50);

      subscriber.onEach = d -> d.ack().subscribe();
      subscriber.drainAndRequestAll();
      await().atMost(Duration.ofSeconds(30)).until(() -> subscriber.received.size() == total);
      await().atMost(Duration.ofSeconds(10)).until(() -> committed(group, topic, 1)[0] == total);
    } finally {
      subscriber.dispose();
    }
  }

  @Test
  void unsettledDeliveriesNeverExceedMaxInFlight() {
    String topic = unique("bound");
    String group = unique("g");
    kafka().createTopic(topic, 2);
    produce(topic, records("bound", 500));
    KafkaSource source = KafkaSource.create(options(topic, group).maxInFlight(40).build());
    List<Delivery> got = new CopyOnWriteArrayList<>();
    Disposable running = source.receive().subscribe(got::add);
    try {
      await().atMost(Duration.ofSeconds(30)).until(() -> got.size() == 40);
      await().during(Duration.ofMillis(500)).until(() -> got.size() == 40);
      Flux.fromIterable(new ArrayList<>(got)).take(10).flatMap(Delivery::ack).blockLast();
      await().atMost(Duration.ofSeconds(10)).until(() -> got.size() == 50);
      await().during(Duration.ofMillis(300)).until(() -> got.size() == 50);
      assertThat(source.counters().maxHeld()).isEqualTo(40);
    } finally {
      running.dispose();
    }
  }

  @Test
  void aSlowEarlyRecordStopsFetchingOnceMaxUncommittedRecordsWaitBehindIt() {
    String topic = unique("uncommitted");
    String group = unique("g");
    kafka().createTopic(topic, 1);
    produce(topic, records("uncommitted", 200));
    KafkaSource source =
        KafkaSource.create(options(topic, group).maxInFlight(10).maxUncommitted(30).build());
    List<Delivery> got = new CopyOnWriteArrayList<>();
    Disposable running =
        source
            .receive()
            .subscribe(
                d -> {
                  got.add(d);
                  if (d.envelope().origin().offset() != 0) {
                    d.ack().subscribe(); // all but the first finish at once
                  }
                });
    try {
      await().atMost(Duration.ofSeconds(30)).until(() -> got.size() == 30);
      await().during(Duration.ofMillis(500)).until(() -> got.size() == 30);
      assertThat(committed(group, topic, 1)[0]).isEqualTo(-1);

      got.get(0).ack().block();
      await().atMost(Duration.ofSeconds(30)).until(() -> got.size() == 200);
      await().atMost(Duration.ofSeconds(10)).until(() -> committed(group, topic, 1)[0] == 200);
    } finally {
      running.dispose();
    }
  }

  @Test
  void acksOfRevokedPartitionsCommitNothingAndTheirRecordsAreDeliveredAgain() {
    String topic = unique("revoke");
    String group = unique("g");
    int total = 200;
    kafka().createTopic(topic, 2);
    produce(topic, records("revoke", total));
    KafkaSourceOptions opts =
        options(topic, group)
            .maxInFlight(20)
            .consumerProperty(
                ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, RangeAssignor.class.getName())
            .build();
    KafkaSource sourceA = KafkaSource.create(opts);
    KafkaSource sourceB = KafkaSource.create(opts);
    Manual a = new Manual(20);
    Manual b = new Manual(20);
    sourceA.receive().subscribe(a);
    try {
      await().atMost(Duration.ofSeconds(30)).until(() -> a.received.size() == 20);
      List<Delivery> stale = new ArrayList<>(a.received);

      sourceB.receive().subscribe(b); // joins the group: A's partitions are revoked
      await().atMost(Duration.ofSeconds(30)).until(() -> !b.received.isEmpty());

      Flux.fromIterable(stale).flatMap(Delivery::ack).blockLast(Duration.ofSeconds(10));
      assertThat(sourceA.counters().settledAfterRevocation()).isEqualTo(20);
      await()
          .during(Duration.ofMillis(500))
          .atMost(Duration.ofSeconds(5))
          .until(() -> Arrays.stream(committed(group, topic, 2)).allMatch(c -> c == -1));

      // Both consumers now ack everything: every record is handled, the stale ones again.
      Set<String> seen = ConcurrentHashMap.newKeySet();
      a.onEach = d -> d.ack().doOnSuccess(v -> seen.add(d.envelope().messageId())).subscribe();
      b.onEach = a.onEach;
      a.drainAndRequestAll();
      b.drainAndRequestAll();
      await().atMost(Duration.ofSeconds(60)).until(() -> seen.size() == total);
      assertThat(seen).containsAll(stale.stream().map(d -> d.envelope().messageId()).toList());
      long[] end = endOffsets(topic, 2);
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(() -> assertThat(committed(group, topic, 2)).isEqualTo(end));
    } finally {
      a.dispose();
      b.dispose();
    }
  }

  private static Set<String> union(Set<String> a, Set<String> b) {
    Set<String> u = new HashSet<>(a);
    u.addAll(b);
    return u;
  }

  /** A subscriber whose demand the test controls. */
  static final class Manual extends BaseSubscriber<Delivery> {
    final List<Delivery> received = new CopyOnWriteArrayList<>();
    volatile java.util.function.Consumer<Delivery> onEach;
    private final long initial;

    Manual(long initial) {
      this.initial = initial;
    }

    @Override
    protected void hookOnSubscribe(Subscription subscription) {
      request(initial);
    }

    @Override
    protected void hookOnNext(Delivery d) {
      received.add(d);
      java.util.function.Consumer<Delivery> c = onEach;
      if (c != null) {
        c.accept(d);
      }
    }

    /** Applies {@link #onEach} to what was received and not handled, then asks for everything. */
    void drainAndRequestAll() {
      for (Delivery d : received) {
        if (!d.settled()) {
          onEach.accept(d);
        }
      }
      requestUnbounded();
    }
  }
}
