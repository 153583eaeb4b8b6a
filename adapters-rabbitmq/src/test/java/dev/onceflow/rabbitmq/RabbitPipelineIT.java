package dev.onceflow.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.GetResponse;
import dev.onceflow.deadletter.DeadLetter;
import dev.onceflow.deadletter.DeadLetterSink;
import dev.onceflow.handler.Handled;
import dev.onceflow.memory.InMemoryIdempotencyStore;
import dev.onceflow.outcome.Outcome;
import dev.onceflow.pipeline.Decoder;
import dev.onceflow.pipeline.Dedup;
import dev.onceflow.pipeline.Onceflow;
import dev.onceflow.pipeline.Pipeline;
import dev.onceflow.pipeline.Retries;
import dev.onceflow.store.Effect;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.connection.ConnectionProxy;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/** Whole pipelines over the real broker: dedup, crashes, poison messages, an open breaker. */
class RabbitPipelineIT {

  private RabbitBroker.Admin broker;
  private final List<String> queues = new ArrayList<>();
  private final List<Runnable> cleanups = new ArrayList<>();
  private final InMemoryIdempotencyStore store = InMemoryIdempotencyStore.create();

  @BeforeEach
  void connect() {
    RabbitBroker.requireRunning();
    broker = new RabbitBroker.Admin();
  }

  @AfterEach
  void cleanUp() throws Exception {
    cleanups.forEach(Runnable::run);
    queues.forEach(broker::deleteQueue);
    broker.close();
  }

  private String queue(String prefix, Map<String, Object> args) throws Exception {
    String q = RabbitBroker.uniqueName(prefix);
    queues.add(q);
    broker.declareQueue(q, args);
    return q;
  }

  private RabbitDeadLetter deadLetterQueue(String dlq) {
    queues.add(dlq);
    RabbitDeadLetter sink =
        RabbitDeadLetter.create(
            RabbitDeadLetterOptions.builder()
                .uri(RabbitBroker.URI)
                .queue(dlq)
                .declareQueue(true)
                .build());
    cleanups.add(sink::close);
    return sink;
  }

  /** A deduplicating pipeline over {@code options} whose handler counts its runs per key. */
  private Pipeline<String, Object> counting(
      String name,
      RabbitSourceOptions options,
      Map<String, AtomicInteger> handled,
      DeadLetterSink deadLetters,
      int concurrency) {
    return Onceflow.consume(RabbitSource.create(options))
        .name(name)
        .decode(Decoder.utf8())
        .deduplicate(Dedup.byMessageId(store).inProgressBackoff(Duration.ofMillis(50)))
        .handle(
            m -> {
              handled.computeIfAbsent(m.key(), k -> new AtomicInteger()).incrementAndGet();
              return Mono.just((Object) "ok");
            })
        .deadLetterTo(deadLetters)
        .concurrency(concurrency)
        .build();
  }

  private void stop(Pipeline<?, ?> p) {
    p.stop(Duration.ofSeconds(10)).block(Duration.ofSeconds(30));
  }

  @Test
  void tenThousandMessagesWithThirtyPercentDuplicatesAreEachHandledOnce() throws Exception {
    String q = queue("dedup", Map.of());
    List<String> ids = new ArrayList<>();
    IntStream.range(0, 7_000).forEach(i -> ids.add("id-" + i));
    IntStream.range(0, 3_000).forEach(i -> ids.add("id-" + (i * 7 % 7_000)));
    Collections.shuffle(ids, new Random(42));
    long publishStart = System.nanoTime();
    broker.publish(q, ids);
    System.out.printf(
        "published 10,000 in %d ms%n", (System.nanoTime() - publishStart) / 1_000_000);
    String dlq = RabbitBroker.uniqueName("dedup-dlq");

    Map<String, AtomicInteger> handled = new ConcurrentHashMap<>();
    Pipeline<String, Object> p =
        counting(
            "dedup-it",
            RabbitSourceOptions.builder()
                .uri(RabbitBroker.URI)
                .queue(q)
                .prefetch(100)
                .consumers(2)
                .build(),
            handled,
            deadLetterQueue(dlq),
            64);

    long start = System.nanoTime();
    Disposable run = p.start();
    cleanups.add(run::dispose);
    await()
        .atMost(Duration.ofSeconds(90))
        .until(() -> p.ledger().processed() == 7_000 && p.ledger().duplicates() == 3_000);
    long millis = (System.nanoTime() - start) / 1_000_000;
    stop(p);
    System.out.printf(
        "10,000 deliveries (30%% duplicates) through a pipeline in %d ms: %s%n",
        millis, p.ledger());

    assertThat(handled).hasSize(7_000);
    assertThat(handled.values()).allSatisfy(c -> assertThat(c).hasValue(1));
    assertThat(p.ledger().deadLettered()).isZero();
    assertThat(p.ledger().balanced()).isTrue();
    await().atMost(Duration.ofSeconds(10)).until(() -> broker.consumers(q) == 0);
    // After the consumers closed, anything left unacked would be back in the queue.
    assertThat(broker.ready(q)).as("queue empty, nothing left unacked").isZero();
  }

  @Test
  void consumerKilledMidStreamIsRedeliveredAndANewConsumerFinishesWithEffectsOnce()
      throws Exception {
    String q = queue("killed", Map.of());
    int total = 2_000;
    List<String> ids = IntStream.range(0, total).mapToObj(i -> "k-" + i).toList();
    broker.publish(q, ids);
    String dlq = RabbitBroker.uniqueName("killed-dlq");
    RabbitDeadLetter sink = deadLetterQueue(dlq);
    Map<String, AtomicInteger> handlerRuns = new ConcurrentHashMap<>();
    AtomicInteger redelivered = new AtomicInteger();

    CachingConnectionFactory cf = RabbitBroker.connectionFactory();
    cleanups.add(cf::destroy);
    Pipeline<String, String> first =
        pipeline(
            "killed-it",
            RabbitSourceOptions.builder().connectionFactory(cf).queue(q),
            sink,
            handlerRuns);
    Disposable run = first.outcomes().subscribe();
    await().atMost(Duration.ofSeconds(30)).until(() -> first.ledger().processed() >= 500);

    // Crash: the socket goes away under the consumer, then the pipeline is dropped without stop.
    ((ConnectionProxy) cf.createConnection()).getTargetConnection().getDelegate().abort();
    run.dispose();
    cf.destroy();

    Pipeline<String, String> second =
        pipeline(
            "killed-it",
            RabbitSourceOptions.builder().uri(RabbitBroker.URI).queue(q),
            sink,
            handlerRuns);
    Disposable run2 =
        second
            .outcomes()
            .doOnNext(
                o -> {
                  if (o.envelope().origin().redelivered()) {
                    redelivered.incrementAndGet();
                  }
                })
            .subscribe();
    cleanups.add(run2::dispose);
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                store.data().hash("killed-it", "effects").size() == total && broker.ready(q) == 0);
    stop(second);

    Map<String, String> effects = store.data().hash("killed-it", "effects");
    assertThat(effects).hasSize(total);
    assertThat(effects.values()).as("each id's effect applied once").allMatch("1"::equals);
    assertThat(redelivered.get()).as("the crashed consumer's unacked came back").isPositive();
    // Each key completes once: by the first consumer (some of whose acks were lost in the
    // crash, so their redeliveries are duplicates) or by the second. A delivery in flight at the
    // crash may have completed in the store yet be counted as nacked by the first pipeline.
    long processed = first.ledger().processed() + second.ledger().processed();
    assertThat(processed).isBetween(total - first.ledger().nacked(), (long) total);
    assertThat(second.ledger().duplicates()).isLessThanOrEqualTo(50 + 32);
    assertThat(handlerRuns).hasSize(total);
    assertThat(first.ledger().deadLettered() + second.ledger().deadLettered()).isZero();
    await().atMost(Duration.ofSeconds(10)).until(() -> broker.consumers(q) == 0);
    assertThat(broker.ready(q)).isZero();
    // The sink declared the queue when the pipeline started (ready()); nothing went into it.
    assertThat(broker.ready(dlq)).as("nothing was dead-lettered").isZero();
  }

  private Pipeline<String, String> pipeline(
      String name,
      RabbitSourceOptions.Builder options,
      RabbitDeadLetter sink,
      Map<String, AtomicInteger> handlerRuns) {
    return Onceflow.consume(RabbitSource.create(options.prefetch(50).build()))
        .name(name)
        .decode(Decoder.utf8())
        .deduplicate(
            Dedup.byMessageId(store)
                .lease(Duration.ofSeconds(2))
                .inProgressBackoff(Duration.ofMillis(100)))
        .<String>handleWithEffects(
            m -> {
              handlerRuns.computeIfAbsent(m.key(), k -> new AtomicInteger()).incrementAndGet();
              return Mono.delay(Duration.ofMillis(2))
                  .thenReturn(Handled.of("ok", Effect.hincrBy("effects", m.key(), 1)));
            })
        .deadLetterTo(sink)
        .concurrency(32)
        .build();
  }

  @Test
  void poisonMessagesGoToTheDeadLetterQueueWithHeadersAndOthersFlow() throws Exception {
    String q = queue("poison", Map.of());
    List<String> ids = new ArrayList<>();
    IntStream.range(0, 297).forEach(i -> ids.add("ok-" + i));
    ids.add(50, "poison-1");
    ids.add(150, "poison-2");
    ids.add(250, "poison-3");
    broker.publish(q, ids);
    String dlq = RabbitBroker.uniqueName("poison-dlq");

    Pipeline<String, Object> p =
        Onceflow.consume(
                RabbitSource.create(
                    RabbitSourceOptions.builder()
                        .uri(RabbitBroker.URI)
                        .queue(q)
                        .prefetch(50)
                        .build()))
            .name("poison-it")
            .decode(Decoder.utf8())
            .deduplicate(Dedup.byMessageId(store))
            .handle(
                m ->
                    m.key().startsWith("poison-")
                        ? Mono.error(new IllegalArgumentException("cannot bill " + m.key()))
                        : Mono.just((Object) "ok"))
            .retry(Retries.exponential(2, Duration.ofMillis(10)))
            .deadLetterTo(deadLetterQueue(dlq))
            .concurrency(16)
            .build();
    Disposable run = p.start();
    cleanups.add(run::dispose);
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> p.ledger().processed() == 297 && p.ledger().deadLettered() == 3);
    stop(p);

    assertThat(broker.ready(dlq)).isEqualTo(3);
    List<String> dead = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      GetResponse got = broker.get(dlq);
      Map<String, Object> h = got.getProps().getHeaders();
      assertThat(h.get(DeadLetter.REASON)).hasToString("HANDLER_FAILED");
      assertThat(h.get(DeadLetter.EXCEPTION_CLASS))
          .hasToString(IllegalArgumentException.class.getName());
      assertThat(h.get(DeadLetter.ATTEMPTS)).hasToString("2");
      assertThat(h.get(DeadLetter.PIPELINE)).hasToString("poison-it");
      assertThat(h.get(DeadLetter.ORIGIN_DESTINATION)).hasToString(q);
      assertThat(new String(got.getBody(), StandardCharsets.UTF_8))
          .isEqualTo("payload-" + got.getProps().getMessageId());
      dead.add(got.getProps().getMessageId());
    }
    assertThat(dead).containsExactlyInAnyOrder("poison-1", "poison-2", "poison-3");
    await().atMost(Duration.ofSeconds(10)).until(() -> broker.consumers(q) == 0);
    assertThat(broker.ready(q)).isZero();
  }

  @Test
  void foreignMessagesWithOnlyACloudEventsIdOrACustomIdHeaderAreDeduplicatedByThatId()
      throws Exception {
    String q = queue("foreign", Map.of());
    // As a producer that is not onceflow sends them: no onceflow-id, a random message-id per send.
    String[][] sent = {
      {"cloudEvents:id", "evt-1"},
      {"cloudEvents:id", "evt-1"},
      {"cloudEvents_id", "evt-2"},
      {"X-Message-Id", "custom-1"},
      {"X-Message-Id", "custom-1"},
    };
    for (String[] h : sent) {
      broker.publish(
          "",
          q,
          new com.rabbitmq.client.AMQP.BasicProperties.Builder()
              .messageId(java.util.UUID.randomUUID().toString())
              .headers(Map.of(h[0], h[1], "cloudEvents:source", "/billing"))
              .build(),
          "same".getBytes(StandardCharsets.UTF_8));
    }
    Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    Pipeline<String, Object> p =
        counting(
            "foreign-it",
            RabbitSourceOptions.builder()
                .uri(RabbitBroker.URI)
                .queue(q)
                .idHeader("X-Message-Id")
                .build(),
            runs,
            dev.onceflow.memory.InMemoryDeadLetters.create(),
            1);
    Disposable run = p.start();
    cleanups.add(run::dispose);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> p.ledger().processed() + p.ledger().duplicates() == sent.length);
    stop(p);
    assertThat(p.ledger().processed()).as(p.ledger().toString()).isEqualTo(3);
    assertThat(p.ledger().duplicates()).isEqualTo(2);
    assertThat(runs.keySet()).containsExactlyInAnyOrder("evt-1", "evt-2", "custom-1");
    assertThat(runs.values()).allSatisfy(n -> assertThat(n.get()).isEqualTo(1));
  }

  @Test
  void poisonMessageRoutesThroughTheQueuesOwnDeadLetterExchange() throws Exception {
    String dlq = queue("dlx-dlq", Map.of());
    String q = queue("dlx", Map.of("x-dead-letter-exchange", "", "x-dead-letter-routing-key", dlq));
    List<String> ids = new ArrayList<>(IntStream.range(0, 49).mapToObj(i -> "ok-" + i).toList());
    ids.add(20, "poison-1");
    broker.publish(q, ids);
    RabbitSource source =
        RabbitSource.create(RabbitSourceOptions.builder().uri(RabbitBroker.URI).queue(q).build());

    Pipeline<String, Object> p =
        Onceflow.consume(source)
            .name("dlx-it")
            .decode(Decoder.utf8())
            .deduplicate(Dedup.byMessageId(store))
            .handle(
                m ->
                    m.key().startsWith("poison-")
                        ? Mono.error(new IllegalArgumentException("bad"))
                        : Mono.just((Object) "ok"))
            .deadLetterTo(RabbitDeadLetter.viaQueueDeadLetterExchange(source))
            .concurrency(8)
            .build();
    List<Outcome<Object>> outcomes = Collections.synchronizedList(new ArrayList<>());
    Disposable run = p.outcomes().subscribe(outcomes::add);
    cleanups.add(run::dispose);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> p.ledger().processed() == 49 && p.ledger().deadLettered() == 1);
    stop(p);

    await().atMost(Duration.ofSeconds(10)).until(() -> broker.ready(dlq) == 1);
    GetResponse got = broker.get(dlq);
    assertThat(got.getProps().getMessageId()).isEqualTo("poison-1");
    assertThat(got.getProps().getHeaders()).containsKey("x-death");
    assertThat(broker.ready(q)).isZero();
  }

  @Test
  void openBreakerPausesConsumptionAndResumesWithNothingDeadLettered() throws Exception {
    String q = queue("breaker", Map.of());
    int total = 300;
    broker.publish(q, IntStream.range(0, total).mapToObj(i -> "b-" + i).toList());
    String dlq = RabbitBroker.uniqueName("breaker-dlq");
    AtomicBoolean dependencyDown = new AtomicBoolean();
    AtomicInteger callsWhileDown = new AtomicInteger();
    CircuitBreaker breaker =
        CircuitBreaker.of(
            "billing",
            CircuitBreakerConfig.custom()
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(10)
                .minimumNumberOfCalls(5)
                .failureRateThreshold(50)
                .waitDurationInOpenState(Duration.ofMillis(300))
                .permittedNumberOfCallsInHalfOpenState(1)
                .build());
    Pipeline<String, Object> p =
        Onceflow.consume(
                RabbitSource.create(
                    RabbitSourceOptions.builder()
                        .uri(RabbitBroker.URI)
                        .queue(q)
                        .prefetch(20)
                        .build()))
            .name("breaker-it")
            .decode(Decoder.utf8())
            .deduplicate(Dedup.byMessageId(store))
            .handle(
                m -> {
                  if (dependencyDown.get()) {
                    callsWhileDown.incrementAndGet();
                    return Mono.error(new IllegalStateException("billing unavailable"));
                  }
                  return Mono.delay(Duration.ofMillis(5)).thenReturn((Object) "ok");
                })
            .retry(Retries.exponential(3, Duration.ofMillis(20)))
            .circuitBreaker(breaker)
            .breakerPollInterval(Duration.ofMillis(50))
            .deadLetterTo(deadLetterQueue(dlq))
            .concurrency(8)
            .build();
    Disposable run = p.start();
    cleanups.add(run::dispose);
    await().atMost(Duration.ofSeconds(30)).until(() -> p.ledger().processed() >= 50);

    dependencyDown.set(true);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> breaker.getState() != CircuitBreaker.State.CLOSED);
    long processedAtOutage = p.ledger().processed();
    long readyAtOutage = broker.ready(q);
    // Paused: for 1.5 s of outage nothing more leaves the queue and nothing is dead-lettered.
    await()
        .during(Duration.ofMillis(1500))
        .atMost(Duration.ofSeconds(5))
        .until(() -> broker.ready(q) == readyAtOutage && p.ledger().deadLettered() == 0);
    assertThat(readyAtOutage).isPositive();
    assertThat(p.ledger().processed()).isEqualTo(processedAtOutage);
    assertThat(p.ledger().inFlight()).isLessThanOrEqualTo(8);

    dependencyDown.set(false);
    await().atMost(Duration.ofSeconds(60)).until(() -> p.ledger().processed() == total);
    stop(p);

    assertThat(p.ledger().deadLettered()).isZero();
    assertThat(callsWhileDown.get()).as("the breaker held calls back").isLessThan(100);
    assertThat(breaker.getState()).isEqualTo(CircuitBreaker.State.CLOSED);
    await().atMost(Duration.ofSeconds(10)).until(() -> broker.consumers(q) == 0);
    assertThat(broker.ready(q)).isZero();
    assertThat(broker.ready(dlq)).as("declared at start, and no dead letter in it").isZero();
  }
}
