package dev.onceflow.test;

import static org.assertj.core.api.Assertions.assertThat;

import dev.onceflow.memory.InMemoryDeadLetters;
import dev.onceflow.memory.InMemoryIdempotencyStore;
import dev.onceflow.memory.InMemorySource;
import dev.onceflow.outcome.NackReason;
import dev.onceflow.outcome.Outcome;
import dev.onceflow.pipeline.Decoder;
import dev.onceflow.pipeline.Dedup;
import dev.onceflow.pipeline.Onceflow;
import dev.onceflow.pipeline.Pipeline;
import dev.onceflow.pipeline.Retries;
import dev.onceflow.pipeline.SchedulerClock;
import dev.onceflow.store.AcquireRequest;
import dev.onceflow.store.AcquireResult;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

/** Fail closed, outage is not poison, concurrency, bounded in-flight and graceful stop. */
class PipelineResilienceTest {

  private VirtualTimeScheduler vts;
  private InMemoryIdempotencyStore store;
  private InMemorySource source;
  private InMemoryDeadLetters deadLetters;
  private AtomicInteger handlerCalls;

  @BeforeEach
  void setUp() {
    vts = VirtualTimeScheduler.create();
    store = InMemoryIdempotencyStore.create(new SchedulerClock(vts));
    source = InMemorySource.create("orders", vts);
    deadLetters = InMemoryDeadLetters.create();
    handlerCalls = new AtomicInteger();
  }

  private <V> StepVerifier.FirstStep<V> virtual(
      java.util.function.Supplier<? extends org.reactivestreams.Publisher<V>> p) {
    return StepVerifier.withVirtualTime(p, () -> vts, Long.MAX_VALUE);
  }

  @Test
  void storeOutageHandlesNothingAcksNothingDeadLettersNothingAndResumes() {
    FaultyStore faulty = FaultyStore.wrap(store).outage(true);
    for (int i = 0; i < 5; i++) {
      source.publish("m" + i, "p" + i);
    }
    source.completeWhenDrained();
    Pipeline<String, Object> p =
        Onceflow.consume(source)
            .name("orders")
            .scheduler(vts)
            .decode(Decoder.utf8())
            .deduplicate(Dedup.byMessageId(faulty))
            .handle(m -> Mono.fromSupplier(() -> (Object) handlerCalls.incrementAndGet()))
            .deadLetterTo(deadLetters)
            .concurrency(2)
            .storeRetry(Duration.ofMillis(100), Duration.ofSeconds(2))
            .build();
    long[] acquiresDuringOutage = new long[1];

    virtual(p::outcomes)
        .thenAwait(Duration.ofSeconds(30))
        .then(
            () -> {
              assertThat(handlerCalls).hasValue(0);
              assertThat(source.acked()).isZero();
              assertThat(deadLetters.deadLetters()).isEmpty();
              assertThat(p.ledger().nacked()).isPositive();
              acquiresDuringOutage[0] = faulty.calls(FaultyStore.Operation.ACQUIRE);
              faulty.outage(false);
            })
        .thenAwait(Duration.ofSeconds(5))
        .thenConsumeWhile(o -> true)
        .verifyComplete();

    // Paused, not spinning: with a 2 s cap on the backoff, 30 s of outage is a few dozen probes.
    assertThat(acquiresDuringOutage[0]).isBetween(1L, 40L);
    assertThat(source.maxUnacked()).isLessThanOrEqualTo(2);
    assertThat(handlerCalls).hasValue(5);
    assertThat(source.acked()).isEqualTo(5);
    assertThat(deadLetters.deadLetters()).isEmpty();
    assertThat(p.ledger().processed()).isEqualTo(5);
    assertThat(p.ledger().balanced()).isTrue();
  }

  @Test
  void openBreakerPausesConsumptionAndDeadLettersNothing() {
    AtomicBoolean dependencyDown = new AtomicBoolean(true);
    CircuitBreaker breaker =
        CircuitBreaker.of(
            "billing",
            CircuitBreakerConfig.custom()
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(4)
                .minimumNumberOfCalls(4)
                .failureRateThreshold(50)
                .waitDurationInOpenState(Duration.ofSeconds(10))
                .permittedNumberOfCallsInHalfOpenState(1)
                .clock(new SchedulerClock(vts))
                .build());
    for (int i = 0; i < 20; i++) {
      source.publish("m" + i, "p" + i);
    }
    source.completeWhenDrained();
    Pipeline<String, Object> p =
        Onceflow.consume(source)
            .name("orders")
            .scheduler(vts)
            .decode(Decoder.utf8())
            .deduplicate(Dedup.byMessageId(store).lease(Duration.ofSeconds(30)))
            .handle(
                m -> {
                  handlerCalls.incrementAndGet();
                  return dependencyDown.get()
                      ? Mono.error(new IllegalStateException("billing unavailable"))
                      : Mono.just((Object) "ok");
                })
            .retry(Retries.exponential(3, Duration.ofMillis(100)))
            .circuitBreaker(breaker)
            .deadLetterTo(deadLetters)
            .concurrency(4)
            .build();
    long[] deliveredWhileOpen = new long[1];

    virtual(p::outcomes)
        .thenAwait(Duration.ofSeconds(60))
        .then(
            () -> {
              assertThat(breaker.getState()).isNotEqualTo(CircuitBreaker.State.CLOSED);
              assertThat(deadLetters.deadLetters()).isEmpty();
              deliveredWhileOpen[0] = source.published() - source.ready();
              dependencyDown.set(false);
            })
        .thenAwait(Duration.ofSeconds(60))
        .thenConsumeWhile(o -> true)
        .verifyComplete();

    // Paused: at most the 4 in flight (and the few that gave their place to others) were pulled.
    assertThat(deliveredWhileOpen[0]).as("consumption paused").isLessThanOrEqualTo(8);
    assertThat(source.maxUnacked()).isLessThanOrEqualTo(4);
    assertThat(deadLetters.deadLetters()).isEmpty();
    assertThat(p.ledger().processed()).isEqualTo(20);
    assertThat(breaker.getState()).isEqualTo(CircuitBreaker.State.CLOSED);
  }

  @RepeatedTest(5)
  void concurrentDeliveriesOfOneKeyOnManyThreadsRunTheHandlerOnce() {
    InMemoryIdempotencyStore shared = InMemoryIdempotencyStore.create();
    EffectRecorder effects = new EffectRecorder();
    List<String> ids = IntStream.range(0, 200).mapToObj(i -> "id-" + i).toList();
    List<Pipeline<String, Object>> consumers = new ArrayList<>();
    for (int c = 0; c < 8; c++) {
      InMemorySource s = InMemorySource.create("q" + c);
      ids.forEach(id -> s.publish(id, "payload of " + id));
      s.completeWhenDrained();
      consumers.add(
          Onceflow.consume(s)
              .name("orders")
              .decode(Decoder.utf8())
              .deduplicate(Dedup.byMessageId(shared).inProgressBackoff(Duration.ofMillis(5)))
              .handle(
                  m ->
                      Mono.delay(Duration.ofMillis(1))
                          .then(Mono.fromSupplier(() -> (Object) effects.apply(m.key()))))
              .deadLetterTo(deadLetters)
              .concurrency(16)
              .build());
    }

    Flux.fromIterable(consumers)
        .flatMap(p -> p.outcomes().subscribeOn(Schedulers.parallel()))
        .then()
        .block(Duration.ofSeconds(60));

    effects.assertExactlyOnce(ids);
    long processed = consumers.stream().mapToLong(p -> p.ledger().processed()).sum();
    long duplicates = consumers.stream().mapToLong(p -> p.ledger().duplicates()).sum();
    assertThat(processed).isEqualTo(200);
    assertThat(duplicates).isEqualTo(7 * 200);
    assertThat(deadLetters.deadLetters()).isEmpty();
  }

  @Test
  void inFlightIsBoundedByConcurrency() {
    for (int i = 0; i < 100; i++) {
      source.publish("m" + i, "p");
    }
    source.completeWhenDrained();
    Pipeline<String, Object> p =
        Onceflow.consume(source)
            .name("orders")
            .scheduler(vts)
            .decode(Decoder.utf8())
            .deduplicate(Dedup.byMessageId(store))
            .handle(m -> Mono.delay(Duration.ofMillis(100), vts).thenReturn((Object) "ok"))
            .deadLetterTo(deadLetters)
            .concurrency(7)
            .build();
    virtual(p::outcomes).thenAwait(Duration.ofSeconds(10)).expectNextCount(100).verifyComplete();
    assertThat(source.maxUnacked()).isEqualTo(7);
  }

  @Test
  void orderedByKeyHandlesOneEntityInDeliveryOrder() {
    List<String> seen = java.util.Collections.synchronizedList(new ArrayList<>());
    for (int i = 0; i < 30; i++) {
      source.publish(
          dev.onceflow.core.Envelope.builder()
              .messageId("m" + i)
              .entityKey("customer-" + (i % 3))
              .payload(("" + i).getBytes(java.nio.charset.StandardCharsets.UTF_8))
              .origin(dev.onceflow.core.Origin.kafka("x", 0, 0)));
    }
    source.completeWhenDrained();
    Pipeline<String, Object> p =
        Onceflow.consume(source)
            .name("orders")
            .scheduler(vts)
            .decode(Decoder.utf8())
            .deduplicate(Dedup.byMessageId(store))
            .handle(
                m -> {
                  int i = Integer.parseInt(m.payload());
                  // Later messages are faster: without ordering they would overtake.
                  return Mono.delay(Duration.ofMillis(300 - i * 10L), vts)
                      .then(Mono.fromRunnable(() -> seen.add(m.envelope().entityKey() + ":" + i)))
                      .thenReturn((Object) "ok");
                })
            .deadLetterTo(deadLetters)
            .concurrency(16)
            .orderedByKey()
            .build();
    virtual(p::outcomes).thenAwait(Duration.ofSeconds(30)).expectNextCount(30).verifyComplete();
    for (int k = 0; k < 3; k++) {
      String prefix = "customer-" + k + ":";
      List<Integer> order =
          seen.stream()
              .filter(s -> s.startsWith(prefix))
              .map(s -> Integer.parseInt(s.substring(prefix.length())))
              .toList();
      assertThat(order).hasSize(10).isSorted();
    }
  }

  @Test
  void gracefulStopDrainsThenReleasesWhatDidNotFinish() {
    source.publish("fast", "1").publish("slow", "2");
    Pipeline<String, Object> p =
        Onceflow.consume(source)
            .name("orders")
            .scheduler(vts)
            .decode(Decoder.utf8())
            .deduplicate(Dedup.byMessageId(store).lease(Duration.ofSeconds(30)))
            .handle(
                m ->
                    Mono.delay(Duration.ofSeconds(m.payload().equals("2") ? 100 : 1), vts)
                        .thenReturn((Object) "ok"))
            .deadLetterTo(deadLetters)
            .concurrency(4)
            .build();
    List<Outcome<Object>> outcomes = new ArrayList<>();
    p.outcomes().subscribe(outcomes::add);
    source.publish("late", "3"); // arrives while running

    boolean[] stopped = new boolean[1];
    p.stop(Duration.ofSeconds(5)).subscribe(null, null, () -> stopped[0] = true);
    vts.advanceTimeBy(Duration.ofSeconds(6));

    assertThat(stopped[0]).isTrue();
    assertThat(p.running()).isFalse();
    assertThat(outcomes).anySatisfy(o -> assertThat(o).isInstanceOf(Outcome.Processed.class));
    assertThat(p.ledger().processed()).isEqualTo(2); // fast and late
    assertThat(p.ledger().nacked()).isEqualTo(1); // slow: stopped
    assertThat(p.ledger().balanced()).isTrue();
    assertThat(source.unacked()).isZero();
    assertThat(source.ready()).isEqualTo(1);
    assertThat(
            store
                .acquire(AcquireRequest.of("orders", "slow", "next", Duration.ofSeconds(1)))
                .block())
        .as("the unfinished lease was released")
        .isInstanceOf(AcquireResult.Acquired.class);
  }

  @Test
  void stoppedPipelineNacksWithReasonStoppedInItsLedger() {
    assertThat(NackReason.valueOf("STOPPED")).isNotNull();
    Pipeline<String, Object> p =
        Onceflow.consume(source)
            .decode(Decoder.utf8())
            .handle(m -> Mono.just((Object) "ok"))
            .deadLetterTo(deadLetters)
            .build();
    StepVerifier.create(p.stop(Duration.ofSeconds(1))).verifyComplete();
    assertThat(p.running()).isFalse();
  }

  @Test
  void secondSubscriptionIsRefusedWhileRunning() {
    Pipeline<String, Object> p =
        Onceflow.consume(source)
            .name("orders")
            .decode(Decoder.utf8())
            .handle(m -> Mono.just((Object) "ok"))
            .deadLetterTo(deadLetters)
            .build();
    var first = p.start();
    StepVerifier.create(p.outcomes())
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("'orders' is already running"))
        .verify();
    first.dispose();
  }

  @Test
  void sourceFailureReleasesTheLeasesOfUnfinishedWork() {
    source.publish("a", "1");
    dev.onceflow.core.MessageSource failing =
        new dev.onceflow.core.MessageSource() {
          @Override
          public String name() {
            return "failing";
          }

          @Override
          public Flux<dev.onceflow.core.Delivery> receive() {
            return source
                .receive()
                .take(1)
                .concatWith(
                    Mono.delay(Duration.ofSeconds(1), vts)
                        .then(Mono.error(new IllegalStateException("broker connection lost"))));
          }
        };
    Pipeline<String, Object> p =
        Onceflow.consume(failing)
            .name("orders")
            .scheduler(vts)
            .decode(Decoder.utf8())
            .deduplicate(Dedup.byMessageId(store).lease(Duration.ofSeconds(30)))
            .handle(m -> Mono.never())
            .deadLetterTo(deadLetters)
            .build();

    virtual(p::outcomes)
        .thenAwait(Duration.ofSeconds(2))
        .expectErrorMessage("broker connection lost")
        .verify();

    assertThat(p.running()).isFalse();
    assertThat(p.ledger().nacked()).isEqualTo(1);
    assertThat(p.ledger().balanced()).isTrue();
    assertThat(
            store.acquire(AcquireRequest.of("orders", "a", "next", Duration.ofSeconds(1))).block())
        .as("the unfinished lease was released")
        .isInstanceOf(AcquireResult.Acquired.class);
  }
}
