package dev.onceflow.test.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.onceflow.core.Envelope;
import dev.onceflow.deadletter.DeadLetterReason;
import dev.onceflow.memory.InMemoryIdempotencyStore;
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
import dev.onceflow.store.Completion;
import dev.onceflow.store.Guard;
import dev.onceflow.store.IdempotencyStore;
import dev.onceflow.store.Lease;
import dev.onceflow.store.StoreException;
import dev.onceflow.test.EffectRecorder;
import dev.onceflow.test.FaultyStore;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/** One test per defect of the engine issue, named after its scenario. */
class PipelineDefectsTest {

  private final Scenario s = new Scenario();

  @Test
  void aRedriveOfADeadLetteredVersionRunsInsteadOfBeingAckedAsADuplicate() {
    AtomicBoolean fixed = new AtomicBoolean();
    List<Long> handled = new CopyOnWriteArrayList<>();
    s.source.publish(
        Envelope.builder().messageId("e1-v5").entityKey("e1").version(5L).payload(new byte[] {1}));
    Pipeline<byte[], Object> p =
        Onceflow.consume(s.source)
            .name("versions")
            .scheduler(s.vts)
            .deduplicate(Dedup.byEntityVersion(s.store))
            .handle(
                m -> {
                  if (!fixed.get()) {
                    return Mono.error(new IllegalStateException("bad version"));
                  }
                  handled.add(m.envelope().version());
                  return Mono.just((Object) "ok");
                })
            .retry(Retries.none())
            .deadLetterTo(s.deadLetters)
            .build();
    s.source.completeWhenDrained();
    s.runFor(p::outcomes, Duration.ofSeconds(10));
    assertThat(s.deadLetters.deadLetters()).hasSize(1);

    fixed.set(true);
    s.source.publish(s.deadLetters.deadLetters().get(0).envelope().toBuilder().redrive(true));
    s.runFor(p::outcomes, Duration.ofSeconds(10));
    assertThat(handled).containsExactly(5L);
    assertThat(p.ledger().processed()).isEqualTo(1);
    assertThat(p.ledger().duplicates()).isZero();
  }

  @Test
  void theInMemoryStoreForgetsExpiredKeysWhateverOrderTheyWereWrittenIn() {
    InMemoryIdempotencyStore store = InMemoryIdempotencyStore.create(new SchedulerClock(s.vts));
    Duration lease = Duration.ofSeconds(1);
    Duration retention = Duration.ofMinutes(1);
    // One key that stays live (its lease is extended), written first.
    Lease live =
        ((AcquireResult.Acquired)
                store
                    .acquire(
                        AcquireRequest.of("ns", "live", "o", Duration.ofHours(1))
                            .withRetention(Duration.ofHours(1)))
                    .block())
            .lease();
    for (int round = 0; round < 5; round++) {
      for (int i = 0; i < 10_000; i++) {
        AcquireRequest r =
            AcquireRequest.of("ns", "r" + round + "-" + i, "o", lease).withRetention(retention);
        Lease l = ((AcquireResult.Acquired) store.acquire(r).block()).lease();
        store.complete(l, Completion.processed(null, retention)).block();
      }
      // Memory follows the live keys: this round's operations swept the last round's keys,
      // although the live key was written before all of them.
      assertThat(store.residentKeys()).isLessThanOrEqualTo(10_001);
      s.vts.advanceTimeBy(Duration.ofMinutes(3));
      assertThat(store.extend(live, Duration.ofHours(1)).block()).isTrue();
    }
    s.vts.advanceTimeBy(Duration.ofMinutes(3));
    assertThat(store.size()).isEqualTo(1);
  }

  @Test
  void poisonMessagesCannotHoldTheBreakerOpenGoodMessagesFlowAndPoisonIsDeadLettered() {
    for (int i = 0; i < 8; i++) {
      s.source.publish("poison-" + i, "poison");
    }
    for (int i = 0; i < 200; i++) {
      s.source.publish("good-" + i, "good");
    }
    s.source.completeWhenDrained();
    CircuitBreaker breaker = s.breaker(Duration.ofSeconds(10));
    EffectRecorder goods = new EffectRecorder();
    Pipeline<String, Object> p =
        Onceflow.consume(s.source)
            .name("orders")
            .scheduler(s.vts)
            .decode(Decoder.utf8())
            .deduplicate(Dedup.byMessageId(s.store))
            .handle(
                m ->
                    m.payload().equals("poison")
                        ? Mono.error(new IllegalStateException("poison"))
                        : Mono.fromSupplier(() -> (Object) goods.apply(m.key())))
            .retry(Retries.exponential(3, Duration.ofMillis(100)))
            .circuitBreaker(breaker)
            .deadLetterTo(s.deadLetters)
            .concurrency(16)
            .build();
    s.runFor(p::outcomes, Duration.ofMinutes(5));

    assertThat(s.deadLetters.deadLetters())
        .hasSize(8)
        .allSatisfy(dl -> assertThat(dl.envelope().messageId()).startsWith("poison-"));
    assertThat(goods.total()).isEqualTo(200);
    assertThat(p.ledger().processed()).isEqualTo(200);
    assertThat(p.ledger().balanced()).isTrue();
  }

  @Test
  void sixtyFourPoisonMessagesWithDefaultSettingsAreDeadLetteredAndTenThousandGoodOnesProcessed() {
    for (int i = 0; i < 10_064; i++) {
      boolean poison = i % 157 == 0 && i / 157 < 64;
      s.source.publish((poison ? "poison-" : "good-") + i, poison ? "poison" : "good");
    }
    s.source.completeWhenDrained();
    EffectRecorder goods = new EffectRecorder();
    Pipeline<String, Object> p =
        Onceflow.consume(s.source)
            .name("orders")
            .scheduler(s.vts)
            .decode(Decoder.utf8())
            .deduplicate(Dedup.byMessageId(s.store))
            .handle(
                m ->
                    m.payload().equals("poison")
                        ? Mono.error(new IllegalStateException("poison"))
                        : Mono.fromSupplier(() -> (Object) goods.apply(m.key())))
            .deadLetterTo(s.deadLetters)
            .build();
    s.runFor(p::outcomes, Duration.ofMinutes(5));
    assertThat(s.deadLetters.deadLetters())
        .hasSize(64)
        .allSatisfy(
            dl -> {
              assertThat(dl.reason()).isEqualTo(DeadLetterReason.HANDLER_FAILED);
              assertThat(dl.attempts()).isEqualTo(3);
            });
    assertThat(goods.total()).isEqualTo(10_000);
    assertThat(goods.doubled()).isEmpty();
  }

  @Test
  void cancellingDuringAStoreProbeDoesNotLeaveARestartedPipelineWaitingForEver() {
    s.publish(10);
    // A store whose calls fail only after 2 s (a timeout), so that a probe is in flight when the
    // run is cancelled: on the old engine the gate stayed PROBING and the restarted pipeline never
    // called the store again.
    AtomicBoolean storeDown = new AtomicBoolean(true);
    AtomicLong acquires = new AtomicLong();
    ForwardingStore hanging =
        new ForwardingStore(s.store) {
          @Override
          public Mono<AcquireResult> acquire(AcquireRequest request) {
            acquires.incrementAndGet();
            return storeDown.get()
                ? Mono.delay(Duration.ofSeconds(2), s.vts)
                    .then(Mono.error(new StoreException("timed out after 2 s")))
                : super.acquire(request);
          }
        };
    Pipeline<String, String> p =
        s.pipeline(hanging)
            .concurrency(2)
            .storeRetry(Duration.ofMillis(100), Duration.ofMillis(200))
            .build();
    Disposable first = p.outcomes().subscribe();
    s.vts.advanceTimeBy(Duration.ofSeconds(3));
    first.dispose();
    s.vts.advanceTimeBy(Duration.ofSeconds(1));
    assertThat(p.running()).isFalse();

    storeDown.set(false);
    long before = acquires.get();
    s.source.completeWhenDrained();
    s.runFor(p::outcomes, Duration.ofMinutes(2));
    assertThat(acquires.get() - before).as("store calls of the restarted run").isPositive();
    assertThat(s.applied()).hasSize(10);
    assertThat(p.ledger().balanced()).isTrue();
  }

  @Test
  void reSendsWhoseBodiesDifferAreDuplicatesUnlessAFingerprintWasChosen() {
    for (int i = 0; i < 100; i++) {
      s.source.publish("order-" + i, "{\"amount\":5,\"retry\":0}");
      s.source.publish("order-" + i, "{\"amount\":5,\"retry\":1,\"sentAt\":\"" + i + "\"}");
    }
    s.source.completeWhenDrained();
    Pipeline<String, String> p = s.pipeline(s.store).concurrency(1).build();
    s.runFor(p::outcomes, Duration.ofMinutes(1));
    assertThat(s.deadLetters.deadLetters()).isEmpty();
    assertThat(p.ledger().processed()).isEqualTo(100);
    assertThat(p.ledger().duplicates()).isEqualTo(100);

    // Opting in to a fingerprint over what matters (the amount) still ignores retry stamps, and
    // catches a real reuse of an id.
    Scenario t = new Scenario();
    t.source.publish("order-1", "{\"amount\":5,\"retry\":0}");
    t.source.publish("order-1", "{\"amount\":5,\"retry\":1}");
    t.source.publish("order-1", "{\"amount\":7,\"retry\":0}");
    t.source.completeWhenDrained();
    Pipeline<String, String> q =
        t.pipeline(t.store)
            .deduplicate(
                Dedup.byMessageId(t.store)
                    .fingerprint(
                        e -> {
                          String body = new String(e.payload(), StandardCharsets.UTF_8);
                          return body.substring(0, body.indexOf(','))
                              .getBytes(StandardCharsets.UTF_8);
                        }))
            .concurrency(1)
            .build();
    t.runFor(q::outcomes, Duration.ofMinutes(1));
    assertThat(q.ledger().processed()).isEqualTo(1);
    assertThat(q.ledger().duplicates()).isEqualTo(1);
    assertThat(t.deadLetters.deadLetters())
        .singleElement()
        .satisfies(dl -> assertThat(dl.reason()).isEqualTo(DeadLetterReason.KEY_REUSED));
  }

  @Test
  void aHeartbeatThatLearnsTheLeaseWasLostCancelsTheHandlerAndNeitherCompletesNorAcks() {
    s.source.publish("slow", "p");
    AtomicBoolean handlerCancelled = new AtomicBoolean();
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    // Another holder takes the key over as soon as the first lease is granted: every extend of it
    // answers false.
    IdempotencyStore stealing =
        new ForwardingStore(s.store) {
          @Override
          public Mono<Boolean> extend(Lease lease, Duration ttl) {
            return Mono.just(false);
          }
        };
    Pipeline<String, Object> p =
        Onceflow.consume(s.source)
            .name("orders")
            .scheduler(s.vts)
            .decode(Decoder.utf8())
            .deduplicate(Dedup.byMessageId(stealing).lease(Duration.ofSeconds(30)))
            .handle(
                m ->
                    Mono.delay(Duration.ofMinutes(5), s.vts)
                        .map(x -> (Object) "done")
                        .doOnCancel(() -> handlerCancelled.set(true)))
            .deadLetterTo(s.deadLetters)
            .metrics(meters)
            .build();
    List<Outcome<Object>> outcomes = new CopyOnWriteArrayList<>();
    Disposable run = p.outcomes().subscribe(outcomes::add);
    s.vts.advanceTimeBy(Duration.ofSeconds(20));
    run.dispose();

    assertThat(handlerCancelled).isTrue();
    // The first delivery's lease was lost; its redeliveries find the key held (IN_PROGRESS).
    assertThat(outcomes.get(0))
        .isInstanceOfSatisfying(
            Outcome.Nacked.class, n -> assertThat(n.reason()).isEqualTo(NackReason.LEASE_LOST));
    assertThat(outcomes).noneMatch(o -> o instanceof Outcome.Processed);
    assertThat(s.source.acked()).isZero();
    assertThat(s.store.find("orders", "slow").block()).isNull();
    assertThat(meters.get("onceflow.lease.lost").counter().count()).isEqualTo(1.0);
  }

  @Test
  void whenRecordingADeadLetterFailsTheLeaseIsReleasedAndTheDeliveryNacked() {
    s.source.publish("bad", "p");
    s.source.completeWhenDrained();
    FaultyStore faulty = FaultyStore.wrap(s.store).failNext(FaultyStore.Operation.COMPLETE, 1);
    AtomicInteger calls = new AtomicInteger();
    Pipeline<String, Object> p =
        Onceflow.consume(s.source)
            .name("orders")
            .scheduler(s.vts)
            .decode(Decoder.utf8())
            .deduplicate(Dedup.byMessageId(faulty))
            .handle(
                m -> {
                  calls.incrementAndGet();
                  return Mono.error(new IllegalStateException("poison"));
                })
            .retry(Retries.none())
            .deadLetterTo(s.deadLetters)
            .build();
    List<Outcome<Object>> outcomes = new CopyOnWriteArrayList<>();
    s.runFor(() -> p.outcomes().doOnNext(outcomes::add), Duration.ofSeconds(30));

    assertThat(outcomes.get(0))
        .isInstanceOfSatisfying(
            Outcome.Nacked.class,
            n -> assertThat(n.reason()).isEqualTo(NackReason.STORE_UNAVAILABLE));
    assertThat(faulty.calls(FaultyStore.Operation.RELEASE)).isEqualTo(1);
    // Released, so the redelivery ran at once rather than waiting out a 30 s lease.
    assertThat(calls).hasValue(2);
    assertThat(outcomes.get(1)).isInstanceOf(Outcome.DeadLettered.class);
  }

  @Test
  void aDuplicateBesideItsOriginalWaitsForItHereInsteadOfPollingTheStore() {
    s.source.publish("m1", "a").publish("m1", "a").completeWhenDrained();
    FaultyStore counting = FaultyStore.wrap(s.store);
    Pipeline<String, Object> p =
        Onceflow.consume(s.source)
            .name("orders")
            .scheduler(s.vts)
            .decode(Decoder.utf8())
            .deduplicate(Dedup.byMessageId(counting))
            .handle(m -> Mono.delay(Duration.ofSeconds(5), s.vts).map(x -> (Object) "ok"))
            .deadLetterTo(s.deadLetters)
            .concurrency(2)
            .build();
    List<Outcome<Object>> outcomes = new CopyOnWriteArrayList<>();
    Disposable run = p.outcomes().subscribe(outcomes::add);
    s.vts.advanceTimeBy(Duration.ofSeconds(5));
    run.dispose();
    assertThat(outcomes).hasSize(2);
    assertThat(outcomes.get(0)).isInstanceOf(Outcome.Processed.class);
    assertThat(outcomes.get(1)).isInstanceOf(Outcome.Duplicate.class);
    // The original's grant, the duplicate's IN_PROGRESS, and its one question after the original.
    assertThat(counting.calls(FaultyStore.Operation.ACQUIRE)).isEqualTo(3);
    assertThat(p.ledger().nacked()).isZero();
  }

  /**
   * The original finished between the store's IN_PROGRESS answer to its duplicate and the
   * duplicate's look for it among this run's holders (found in a latency benchmark: p99 of 1 s, the
   * full in-progress backoff). The duplicate asks again after a few milliseconds, not the backoff.
   */
  @Test
  void aDuplicateWhoseOriginalFinishedJustBeforeItLookedAsksAgainAtOnce() {
    s.source.publish("m1", "a").completeWhenDrained();
    AtomicInteger acquires = new AtomicInteger();
    ForwardingStore racing =
        new ForwardingStore(s.store) {
          @Override
          public Mono<AcquireResult> acquire(AcquireRequest request) {
            // The first answer is IN_PROGRESS of a holder that is already gone: the race.
            return acquires.incrementAndGet() == 1
                ? Mono.just(new AcquireResult.InProgress(Instant.EPOCH.plusSeconds(30)))
                : super.acquire(request);
          }
        };
    s.store
        .acquire(AcquireRequest.of("orders", "m1", "original", Duration.ofSeconds(30)))
        .flatMap(
            r ->
                s.store.complete(
                    ((AcquireResult.Acquired) r).lease(),
                    Completion.processed(null, Duration.ofHours(1))))
        .block();
    Pipeline<String, String> p = s.pipeline(racing).concurrency(1).build();
    List<Outcome<String>> outcomes = new CopyOnWriteArrayList<>();
    Disposable run = p.outcomes().subscribe(outcomes::add);
    s.vts.advanceTimeBy(Duration.ofMillis(50));
    run.dispose();
    assertThat(outcomes).singleElement().isInstanceOf(Outcome.Duplicate.class);
    assertThat(acquires).hasValue(2);
  }

  @Test
  void aNegativeOrMissingGuardValueIsNotAKey() {
    assertThatThrownBy(() -> Guard.sequence(1, 1, Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("gapTimeout must be positive");
  }
}
