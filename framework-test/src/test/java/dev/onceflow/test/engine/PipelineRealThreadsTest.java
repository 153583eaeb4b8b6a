package dev.onceflow.test.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.onceflow.handler.Handled;
import dev.onceflow.memory.InMemoryDeadLetters;
import dev.onceflow.memory.InMemoryIdempotencyStore;
import dev.onceflow.memory.InMemorySource;
import dev.onceflow.outcome.PipelineState;
import dev.onceflow.pipeline.Decoder;
import dev.onceflow.pipeline.Dedup;
import dev.onceflow.pipeline.Onceflow;
import dev.onceflow.pipeline.Pipeline;
import dev.onceflow.pipeline.Retries;
import dev.onceflow.store.Effect;
import dev.onceflow.test.FaultyStore;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Tens of thousands of real polls on the parallel scheduler with a 1 ms poll: waits must not deepen
 * the stack, and a handler success after them must still be recorded and acked.
 */
@Timeout(120)
class PipelineRealThreadsTest {

  private final InMemoryIdempotencyStore store = InMemoryIdempotencyStore.create();
  private final InMemoryDeadLetters deadLetters = InMemoryDeadLetters.create();
  private final AtomicBoolean down = new AtomicBoolean(true);

  private Pipeline<String, String> pipeline(
      InMemorySource source, dev.onceflow.store.IdempotencyStore s) {
    return Onceflow.consume(source)
        .name("real")
        .decode(Decoder.utf8())
        .deduplicate(Dedup.byMessageId(s))
        .<String>handleWithEffects(
            m ->
                down.get()
                    ? Mono.error(new IllegalStateException("dependency down"))
                    : Mono.just(Handled.of("ok", Effect.hincrBy("applied", m.key(), 1))))
        .retry(Retries.exponential(3, Duration.ofMillis(1)))
        .deadLetterTo(deadLetters)
        .concurrency(8)
        .breakerPollInterval(Duration.ofMillis(1))
        .storeRetry(Duration.ofMillis(1), Duration.ofMillis(1))
        .build();
  }

  private static void awaitUntil(java.util.function.BooleanSupplier done, Duration max)
      throws InterruptedException {
    long end = System.nanoTime() + max.toNanos();
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("not done within " + max);
      }
      Thread.sleep(20);
    }
  }

  /**
   * One message waits for a breaker forced open through 30,000 polls of 1 ms on the parallel
   * scheduler (about 30 s), then the breaker closes and its handler succeeds: the success travels
   * back through a constant stack, is recorded and acked.
   */
  @Test
  void oneMessageWaitsThroughThirtyThousandBreakerPollsThenItsSuccessIsRecordedAndAcked()
      throws InterruptedException {
    InMemorySource source = InMemorySource.create("real-breaker", Schedulers.parallel());
    for (int i = 0; i < 10; i++) {
      source.publish("m" + i, "p" + i);
    }
    CircuitBreaker real = CircuitBreaker.ofDefaults("dependency");
    AtomicLong polls = new AtomicLong();
    // The breaker as the pipeline sees it, counting how often it is asked for a permission.
    CircuitBreaker breaker =
        (CircuitBreaker)
            Proxy.newProxyInstance(
                CircuitBreaker.class.getClassLoader(),
                new Class<?>[] {CircuitBreaker.class},
                (proxy, method, args) -> {
                  if (method.getName().equals("tryAcquirePermission")) {
                    polls.incrementAndGet();
                  }
                  try {
                    return method.invoke(real, args);
                  } catch (InvocationTargetException e) {
                    throw e.getCause();
                  }
                });
    Pipeline<String, String> p =
        Onceflow.consume(source)
            .name("real")
            .decode(Decoder.utf8())
            .deduplicate(Dedup.byMessageId(store))
            .<String>handleWithEffects(
                m -> {
                  if (down.get()) {
                    // The dependency fails and the breaker is forced open: the message waits.
                    breaker.transitionToForcedOpenState();
                    return Mono.error(new IllegalStateException("dependency down"));
                  }
                  return Mono.just(Handled.of("ok", Effect.hincrBy("applied", m.key(), 1)));
                })
            .retry(Retries.exponential(3, Duration.ofMillis(1)))
            .circuitBreaker(breaker)
            .deadLetterTo(deadLetters)
            .concurrency(1)
            .breakerPollInterval(Duration.ofMillis(1))
            .build();
    Disposable running = p.start();
    try {
      awaitUntil(() -> polls.get() >= 30_000, Duration.ofSeconds(90));
      assertThat(p.state().status()).isEqualTo(PipelineState.Status.PAUSED_BREAKER_OPEN);
      assertThat(source.acked()).isZero();
      down.set(false);
      breaker.transitionToClosedState();
      awaitUntil(() -> p.ledger().processed() == 10, Duration.ofSeconds(30));
    } finally {
      running.dispose();
    }
    assertThat(store.data().hash("real", "applied"))
        .hasSize(10)
        .allSatisfy((k, v) -> assertThat(v).isEqualTo("1"));
    assertThat(source.acked()).isEqualTo(10);
    assertThat(deadLetters.deadLetters()).isEmpty();
    assertThat(p.ledger().balanced()).isTrue();
  }

  @Test
  void aStoreOutageProbedEveryMillisecondOnParallelThreadsThenEveryMessageIsProcessedOnce()
      throws InterruptedException {
    down.set(false);
    InMemorySource source = InMemorySource.create("real-store", Schedulers.parallel());
    for (int i = 0; i < 40; i++) {
      source.publish("m" + i, "p" + i);
    }
    FaultyStore faulty = FaultyStore.wrap(store).outage(true);
    Pipeline<String, String> p = pipeline(source, faulty);
    Disposable running = p.start();
    try {
      awaitUntil(
          () -> faulty.calls(FaultyStore.Operation.ACQUIRE) >= 3_000, Duration.ofSeconds(60));
      assertThat(p.state().status()).isEqualTo(PipelineState.Status.PAUSED_STORE_UNAVAILABLE);
      assertThat(source.acked()).isZero();
      faulty.outage(false);
      awaitUntil(() -> p.ledger().processed() == 40, Duration.ofSeconds(30));
    } finally {
      running.dispose();
    }
    assertThat(store.data().hash("real", "applied"))
        .hasSize(40)
        .allSatisfy((k, v) -> assertThat(v).isEqualTo("1"));
    assertThat(deadLetters.deadLetters()).isEmpty();
    assertThat(p.ledger().balanced()).isTrue();
  }

  /**
   * Leases lost at random while handlers finish at random, on real threads: whichever wins, each
   * delivery settles once, the ledger balances, and every message is processed exactly once in the
   * end (its transactional effect applied once).
   */
  @Test
  void leasesLostWhileHandlersFinishSettleEachDeliveryOnce() throws InterruptedException {
    down.set(false);
    InMemorySource source = InMemorySource.create("races", Schedulers.parallel());
    int n = 2_000;
    for (int i = 0; i < n; i++) {
      source.publish("m" + i, "p" + i);
    }
    java.util.Random random = new java.util.Random(42);
    dev.onceflow.store.IdempotencyStore flaky =
        new ForwardingStore(store) {
          @Override
          public Mono<Boolean> extend(dev.onceflow.store.Lease lease, Duration ttl) {
            // A third of the heartbeats learn that the lease was taken over.
            boolean lost;
            synchronized (random) {
              lost = random.nextInt(3) == 0;
            }
            return lost ? store.release(lease).thenReturn(false) : super.extend(lease, ttl);
          }
        };
    Pipeline<String, String> p =
        Onceflow.consume(source)
            .name("races")
            .decode(Decoder.utf8())
            .deduplicate(Dedup.byMessageId(flaky).lease(Duration.ofMillis(30)))
            .<String>handleWithEffects(
                m ->
                    Mono.delay(Duration.ofMillis(m.key().hashCode() & 15))
                        .thenReturn(Handled.of("ok", Effect.hincrBy("applied", m.key(), 1))))
            .deadLetterTo(deadLetters)
            .concurrency(64)
            .build();
    Disposable running = p.start();
    try {
      awaitUntil(
          () -> store.data().hash("races", "applied").size() == n && source.acked() == n,
          Duration.ofSeconds(60));
    } finally {
      running.dispose();
    }
    assertThat(store.data().hash("races", "applied"))
        .hasSize(n)
        .allSatisfy((k, v) -> assertThat(v).isEqualTo("1"));
    assertThat(p.ledger().processed() + p.ledger().duplicates()).isEqualTo(n);
    assertThat(p.ledger().nacked()).isPositive();
    assertThat(p.ledger().balanced()).isTrue();
    assertThat(deadLetters.deadLetters()).isEmpty();
  }
}
