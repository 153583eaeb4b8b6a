package dev.onceflow.test;

import static org.assertj.core.api.Assertions.assertThat;

import dev.onceflow.deadletter.DeadLetter;
import dev.onceflow.deadletter.DeadLetterReason;
import dev.onceflow.handler.Handled;
import dev.onceflow.memory.InMemoryDeadLetters;
import dev.onceflow.memory.InMemoryIdempotencyStore;
import dev.onceflow.memory.InMemorySource;
import dev.onceflow.outcome.NackReason;
import dev.onceflow.outcome.Outcome;
import dev.onceflow.pipeline.Decoder;
import dev.onceflow.pipeline.Dedup;
import dev.onceflow.pipeline.NonRetryableException;
import dev.onceflow.pipeline.Onceflow;
import dev.onceflow.pipeline.Pipeline;
import dev.onceflow.pipeline.PipelineBuilder;
import dev.onceflow.pipeline.ResultCodec;
import dev.onceflow.pipeline.Retries;
import dev.onceflow.pipeline.SchedulerClock;
import dev.onceflow.store.AcquireRequest;
import dev.onceflow.store.AcquireResult;
import dev.onceflow.store.Effect;
import dev.onceflow.store.RecordedOutcome;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * The flow of one message (README, "The pipeline in depth"), branch by branch, on the in-memory
 * source and store.
 */
class PipelineSemanticsTest {

  private VirtualTimeScheduler vts;
  private InMemoryIdempotencyStore store;
  private InMemorySource source;
  private InMemoryDeadLetters deadLetters;
  private EffectRecorder plainEffects;
  private AtomicInteger handlerCalls;

  @BeforeEach
  void setUp() {
    vts = VirtualTimeScheduler.create();
    store = InMemoryIdempotencyStore.create(new SchedulerClock(vts));
    source = InMemorySource.create("orders", vts);
    deadLetters = InMemoryDeadLetters.create();
    plainEffects = new EffectRecorder();
    handlerCalls = new AtomicInteger();
  }

  private PipelineBuilder<String, Object> base(dev.onceflow.store.IdempotencyStore s) {
    return Onceflow.consume(source)
        .name("orders")
        .scheduler(vts)
        .decode(Decoder.utf8())
        .deduplicate(Dedup.byMessageId(s).lease(Duration.ofSeconds(30)))
        .deadLetterTo(deadLetters);
  }

  /** A handler that applies a plain effect and a transactional one. */
  private Pipeline<String, String> countingPipeline(dev.onceflow.store.IdempotencyStore s) {
    return base(s)
        .<String>handleWithEffects(
            m -> {
              handlerCalls.incrementAndGet();
              plainEffects.apply(m.key());
              return Mono.just(
                  Handled.of(m.payload().toUpperCase(), Effect.hincrBy("effects", m.key(), 1)));
            })
        .resultCodec(ResultCodec.utf8())
        .concurrency(1)
        .build();
  }

  private <V> StepVerifier.FirstStep<V> virtual(
      java.util.function.Supplier<? extends org.reactivestreams.Publisher<V>> p) {
    return StepVerifier.withVirtualTime(p, () -> vts, Long.MAX_VALUE);
  }

  @Test
  void duplicateIsAckedWithoutCallingHandlerAndCarriesCachedResult() {
    source.publish("a", "one").publish("a", "one").publish("b", "two").completeWhenDrained();
    Pipeline<String, String> p = countingPipeline(store);

    StepVerifier.create(p.outcomes())
        .assertNext(
            o ->
                assertThat(o)
                    .isInstanceOfSatisfying(
                        Outcome.Processed.class, pr -> assertThat(pr.result()).isEqualTo("ONE")))
        .assertNext(
            o ->
                assertThat(o)
                    .isInstanceOfSatisfying(
                        Outcome.Duplicate.class,
                        d -> {
                          assertThat(d.key()).isEqualTo("a");
                          assertThat(d.cachedResult()).isEqualTo("ONE");
                        }))
        .assertNext(o -> assertThat(o).isInstanceOf(Outcome.Processed.class))
        .verifyComplete();

    assertThat(handlerCalls).hasValue(2);
    assertThat(source.acked()).isEqualTo(3);
    assertThat(store.data().hash("orders", "effects"))
        .containsEntry("a", "1")
        .containsEntry("b", "1");
    Ledgers.assertSettled(p.ledger(), 2, 1, 0);
  }

  @Test
  void crashAfterHandlerBeforeRecordRerunsUnderHigherFenceAndTransactionalEffectAppliesOnce() {
    FaultyStore dying =
        FaultyStore.wrap(store).crashAt(FaultyStore.CrashPoint.AFTER_HANDLER_BEFORE_RECORD);
    source.publish("a", "one");
    Pipeline<String, String> first = countingPipeline(dying);
    List<Outcome<String>> seen = new CopyOnWriteArrayList<>();
    Disposable running = first.outcomes().subscribe(seen::add);

    assertThat(dying.crashed()).isTrue();
    assertThat(plainEffects.count("a")).isEqualTo(1);
    assertThat(source.acked()).isZero();
    running.dispose(); // the process is dead: its release fails, its lease stays until expiry
    assertThat(source.acked()).isZero();
    assertThat(store.data().hash("orders", "effects")).isEmpty();

    Pipeline<String, String> second = countingPipeline(store);
    source.completeWhenDrained();
    virtual(second::outcomes)
        .thenAwait(Duration.ofSeconds(60))
        .thenConsumeWhile(
            o -> o instanceof Outcome.Nacked<String> n && n.reason() == NackReason.IN_PROGRESS)
        .assertNext(
            o ->
                assertThat(o)
                    .isInstanceOfSatisfying(
                        Outcome.Processed.class, pr -> assertThat(pr.fence()).isEqualTo(2)))
        .verifyComplete();
    assertThat(store.data().hash("orders", "effects")).containsEntry("a", "1");
    // A plain effect re-runs within 1 + faults: one crash, so exactly two runs here.
    assertThat(plainEffects.count("a")).isEqualTo(2);
    assertThat(source.acked()).isEqualTo(1);
  }

  @Test
  void crashAfterRecordBeforeAckMakesTheRedeliveryADuplicate() {
    FaultyStore dying =
        FaultyStore.wrap(store).crashAt(FaultyStore.CrashPoint.AFTER_RECORD_BEFORE_ACK);
    source.publish("a", "one");
    Disposable running = countingPipeline(dying).outcomes().subscribe();
    assertThat(dying.crashed()).isTrue();
    running.dispose();
    assertThat(source.acked()).isZero();

    source.completeWhenDrained();
    StepVerifier.create(countingPipeline(store).outcomes())
        .assertNext(o -> assertThat(o).isInstanceOf(Outcome.Duplicate.class))
        .verifyComplete();
    assertThat(handlerCalls).hasValue(1);
    assertThat(store.data().hash("orders", "effects")).containsEntry("a", "1");
  }

  @Test
  void keyReusedWhileLeasedIsDeferredNotDeadLetteredThenConflictsOnceRecorded() {
    AcquireResult held =
        store
            .acquire(
                AcquireRequest.of("orders", "k", "other-consumer", Duration.ofSeconds(30))
                    .withFingerprint("fingerprint-of-another-payload"))
            .block();
    assertThat(held).isInstanceOf(AcquireResult.Acquired.class);
    source.publish("k", "a different payload");
    // Fingerprints are opt-in for messages: this pipeline opts in.
    Pipeline<String, String> p =
        base(store)
            .deduplicate(Dedup.byMessageId(store).lease(Duration.ofSeconds(30)).fingerprint(true))
            .<String>handle(m -> Mono.just(m.payload()))
            .concurrency(1)
            .build();

    List<Outcome<String>> firstOutcomes = new CopyOnWriteArrayList<>();
    Disposable running = p.outcomes().take(1).subscribe(firstOutcomes::add);
    vts.advanceTimeBy(Duration.ofSeconds(5));
    assertThat(running.isDisposed()).isTrue();
    assertThat(firstOutcomes)
        .singleElement()
        .isInstanceOfSatisfying(
            Outcome.Nacked.class, n -> assertThat(n.reason()).isEqualTo(NackReason.IN_PROGRESS));
    assertThat(deadLetters.deadLetters()).isEmpty();
    assertThat(handlerCalls).hasValue(0);
    assertThat(source.acked()).isZero();

    // The other holder records its outcome: now the reuse is a conflict.
    store
        .complete(
            ((AcquireResult.Acquired) held).lease(),
            dev.onceflow.store.Completion.processed(null, Duration.ofDays(1)))
        .block();
    source.completeWhenDrained();
    virtual(p::outcomes)
        .thenAwait(Duration.ofSeconds(5))
        .assertNext(
            o ->
                assertThat(o)
                    .isInstanceOfSatisfying(
                        Outcome.DeadLettered.class,
                        d ->
                            assertThat(d.deadLetter().reason())
                                .isEqualTo(DeadLetterReason.KEY_REUSED)))
        .verifyComplete();
    assertThat(handlerCalls).hasValue(0);
  }

  @Test
  void storeFailingOnCompleteMeansNoAckThenRedeliveryCompletes() {
    FaultyStore faulty = FaultyStore.wrap(store).failNext(FaultyStore.Operation.COMPLETE, 1);
    source.publish("a", "one").completeWhenDrained();
    Pipeline<String, String> p = countingPipeline(faulty);

    virtual(p::outcomes)
        .assertNext(
            o -> {
              assertThat(o)
                  .isInstanceOfSatisfying(
                      Outcome.Nacked.class,
                      n -> assertThat(n.reason()).isEqualTo(NackReason.STORE_UNAVAILABLE));
              assertThat(source.acked()).isZero();
            })
        .thenAwait(Duration.ofSeconds(1))
        .assertNext(
            o ->
                assertThat(o)
                    .isInstanceOfSatisfying(
                        Outcome.Processed.class, pr -> assertThat(pr.fence()).isEqualTo(2)))
        .verifyComplete();
    assertThat(source.acked()).isEqualTo(1);
    assertThat(handlerCalls).hasValue(2);
    assertThat(store.data().hash("orders", "effects")).containsEntry("a", "1");
  }

  @Test
  void staleOwnerCompletionIsRejectedAndItDoesNotAck() {
    FaultyStore noHeartbeat = FaultyStore.wrap(store).failNext(FaultyStore.Operation.EXTEND, 1000);
    source.publish("a", "one");
    Pipeline<String, Object> p =
        Onceflow.consume(source)
            .name("orders")
            .scheduler(vts)
            .decode(Decoder.utf8())
            .deduplicate(Dedup.byMessageId(noHeartbeat).lease(Duration.ofSeconds(3)))
            .deadLetterTo(deadLetters)
            .handle(m -> Mono.delay(Duration.ofSeconds(10), vts).thenReturn((Object) "late"))
            .build();
    AcquireResult[] takeover = new AcquireResult[1];

    virtual(() -> p.outcomes().take(1))
        .thenAwait(Duration.ofSeconds(5))
        .then(
            () ->
                takeover[0] =
                    store
                        .acquire(
                            AcquireRequest.of("orders", "a", "new-owner", Duration.ofSeconds(30)))
                        .block())
        .thenAwait(Duration.ofSeconds(10))
        .assertNext(
            o ->
                assertThat(o)
                    .isInstanceOfSatisfying(
                        Outcome.Nacked.class,
                        n -> assertThat(n.reason()).isEqualTo(NackReason.LEASE_LOST)))
        .verifyComplete();

    assertThat(takeover[0])
        .isInstanceOfSatisfying(
            AcquireResult.Acquired.class, a -> assertThat(a.lease().fence()).isEqualTo(2));
    assertThat(source.acked()).isZero();
    assertThat(store.find("orders", "a").blockOptional()).isEmpty();
  }

  @Test
  void heartbeatKeepsASlowHandlersLease() {
    source.publish("a", "one").completeWhenDrained();
    Pipeline<String, Object> p =
        base(store)
            .handle(m -> Mono.delay(Duration.ofSeconds(100), vts).thenReturn((Object) "done"))
            .build();
    AcquireResult[] meanwhile = new AcquireResult[1];

    virtual(p::outcomes)
        .thenAwait(Duration.ofSeconds(50))
        .then(
            () ->
                meanwhile[0] =
                    store
                        .acquire(
                            AcquireRequest.of("orders", "a", "intruder", Duration.ofSeconds(30)))
                        .block())
        .thenAwait(Duration.ofSeconds(60))
        .assertNext(o -> assertThat(o).isInstanceOf(Outcome.Processed.class))
        .verifyComplete();
    assertThat(meanwhile[0]).isInstanceOf(AcquireResult.InProgress.class);
  }

  @Test
  void poisonMessageIsDeadLetteredWithReasonAttemptsAndException() {
    source.publish("bad", "x").publish("good", "y").completeWhenDrained();
    Pipeline<String, Object> p =
        base(store)
            .handle(
                m ->
                    m.payload().equals("x")
                        ? Mono.error(new IllegalStateException("boom"))
                        : Mono.just((Object) "ok"))
            .retry(Retries.exponential(3, Duration.ofMillis(100)))
            .build();

    virtual(p::outcomes).thenAwait(Duration.ofSeconds(5)).expectNextCount(2).verifyComplete();

    assertThat(deadLetters.deadLetters())
        .singleElement()
        .satisfies(
            dl -> {
              assertThat(dl.reason()).isEqualTo(DeadLetterReason.HANDLER_FAILED);
              assertThat(dl.attempts()).isEqualTo(3);
              assertThat(dl.exceptionClass()).isEqualTo(IllegalStateException.class.getName());
              assertThat(dl.exceptionMessage()).isEqualTo("boom");
              assertThat(dl.pipeline()).isEqualTo("orders");
              assertThat(dl.headers())
                  .containsEntry(DeadLetter.REASON, "HANDLER_FAILED")
                  .containsEntry(DeadLetter.ATTEMPTS, "3")
                  .containsKey(DeadLetter.FIRST_FAILURE);
              assertThat(dl.lastFailure()).isAfter(dl.firstFailure());
            });
    assertThat(store.find("orders", "bad").block().outcome())
        .isEqualTo(RecordedOutcome.DEAD_LETTERED);
    assertThat(source.acked()).isEqualTo(2);
    Ledgers.assertSettled(p.ledger(), 1, 0, 1);
  }

  @Test
  void nonRetryableErrorIsDeadLetteredAtOnce() {
    source.publish("bad", "x").completeWhenDrained();
    Pipeline<String, Object> p =
        base(store)
            .handle(m -> Mono.error(new NonRetryableException("invalid order")))
            .retry(Retries.exponential(5, Duration.ofMillis(100)))
            .build();
    virtual(p::outcomes).expectNextCount(1).verifyComplete();
    assertThat(deadLetters.deadLetters())
        .singleElement()
        .satisfies(
            dl -> {
              assertThat(dl.reason()).isEqualTo(DeadLetterReason.NON_RETRYABLE);
              assertThat(dl.attempts()).isEqualTo(1);
            });
  }

  @Test
  void deadLetterFailureReleasesTheLeaseAndNacks() {
    deadLetters.failWith(new IllegalStateException("dlq down"));
    source.publish("bad", "x");
    Pipeline<String, Object> p =
        base(store).handle(m -> Mono.error(new NonRetryableException("nope"))).build();

    virtual(() -> p.outcomes().take(1))
        .assertNext(
            o ->
                assertThat(o)
                    .isInstanceOfSatisfying(
                        Outcome.Nacked.class,
                        n -> assertThat(n.reason()).isEqualTo(NackReason.DEAD_LETTER_FAILED)))
        .verifyComplete();
    assertThat(source.acked()).isZero();
    assertThat(
            store.acquire(AcquireRequest.of("orders", "bad", "x", Duration.ofSeconds(1))).block())
        .as("the lease was released, and no record was written")
        .isInstanceOf(AcquireResult.Acquired.class);
  }

  @Test
  void effectTheStoreRefusesIsDeadLetteredNotRetriedForever() {
    dev.onceflow.store.IdempotencyStore refusing =
        new dev.onceflow.store.IdempotencyStore() {
          @Override
          public Mono<AcquireResult> acquire(AcquireRequest request) {
            return store.acquire(request);
          }

          @Override
          public Mono<Boolean> complete(
              dev.onceflow.store.Lease lease, dev.onceflow.store.Completion completion) {
            return completion.effects().isEmpty()
                ? store.complete(lease, completion)
                : Mono.error(
                    new dev.onceflow.store.EffectRejectedException("effect key in another slot"));
          }

          @Override
          public Mono<Boolean> release(dev.onceflow.store.Lease lease) {
            return store.release(lease);
          }

          @Override
          public Mono<Boolean> extend(dev.onceflow.store.Lease lease, Duration ttl) {
            return store.extend(lease, ttl);
          }

          @Override
          public Mono<dev.onceflow.store.OutcomeRecord> find(String namespace, String key) {
            return store.find(namespace, key);
          }
        };
    source.publish("a", "one").completeWhenDrained();
    Pipeline<String, String> p = countingPipeline(refusing);

    virtual(p::outcomes)
        .assertNext(o -> assertThat(o).isInstanceOf(Outcome.DeadLettered.class))
        .verifyComplete();
    assertThat(deadLetters.deadLetters())
        .singleElement()
        .satisfies(
            dl -> {
              assertThat(dl.reason()).isEqualTo(DeadLetterReason.NON_RETRYABLE);
              assertThat(dl.exceptionMessage()).isEqualTo("effect key in another slot");
            });
    assertThat(store.find("orders", "a").block().outcome())
        .isEqualTo(RecordedOutcome.DEAD_LETTERED);
    assertThat(store.data().hash("orders", "effects")).isEmpty();
    assertThat(source.acked()).isEqualTo(1);
  }
}
