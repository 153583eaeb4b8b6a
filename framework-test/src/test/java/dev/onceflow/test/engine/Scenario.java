package dev.onceflow.test.engine;

import dev.onceflow.handler.Handled;
import dev.onceflow.memory.InMemoryDeadLetters;
import dev.onceflow.memory.InMemoryIdempotencyStore;
import dev.onceflow.memory.InMemorySource;
import dev.onceflow.pipeline.Decoder;
import dev.onceflow.pipeline.Dedup;
import dev.onceflow.pipeline.Onceflow;
import dev.onceflow.pipeline.PipelineBuilder;
import dev.onceflow.pipeline.SchedulerClock;
import dev.onceflow.store.Effect;
import dev.onceflow.store.IdempotencyStore;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * One pipeline scenario on virtual time: an in-memory store, source and dead-letter queue on one
 * {@link VirtualTimeScheduler}, a dependency that can be taken down, and a handler that applies one
 * transactional effect per message (so "processed exactly once" can be read from the store).
 */
final class Scenario {
  final VirtualTimeScheduler vts = VirtualTimeScheduler.create();
  final InMemoryIdempotencyStore store = InMemoryIdempotencyStore.create(new SchedulerClock(vts));
  final InMemorySource source = InMemorySource.create("orders", vts);
  final InMemoryDeadLetters deadLetters = InMemoryDeadLetters.create();
  final AtomicBoolean dependencyDown = new AtomicBoolean();
  final AtomicInteger handlerCalls = new AtomicInteger();

  Scenario publish(int n) {
    for (int i = 0; i < n; i++) {
      source.publish("m" + i, "p" + i);
    }
    return this;
  }

  /** A breaker on the scenario's clock: opens after 2 of 4 calls failed, probes with 1 call. */
  CircuitBreaker breaker(Duration waitInOpenState) {
    return CircuitBreaker.of(
        "billing",
        CircuitBreakerConfig.custom()
            .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
            .slidingWindowSize(4)
            .minimumNumberOfCalls(4)
            .failureRateThreshold(50)
            .waitDurationInOpenState(waitInOpenState)
            .permittedNumberOfCallsInHalfOpenState(1)
            .clock(new SchedulerClock(vts))
            .build());
  }

  /** A pipeline whose handler fails while the dependency is down, else applies one effect. */
  PipelineBuilder<String, String> pipeline(IdempotencyStore s) {
    return Onceflow.consume(source)
        .name("orders")
        .scheduler(vts)
        .decode(Decoder.utf8())
        .deduplicate(Dedup.byMessageId(s))
        .<String>handleWithEffects(
            m -> {
              handlerCalls.incrementAndGet();
              if (dependencyDown.get()) {
                return Mono.error(new IllegalStateException("billing unavailable"));
              }
              return Mono.just(Handled.of("ok", Effect.hincrBy("applied", m.key(), 1)));
            })
        .deadLetterTo(deadLetters);
  }

  /** How many times each key's effect was applied. */
  Map<String, String> applied() {
    return store.data().hash("orders", "applied");
  }

  /**
   * Runs {@code run} to its end, advancing the scenario's clock by {@code time} (without the global
   * virtual-time hook, so that a scenario can run a pipeline several times).
   */
  void runFor(Supplier<? extends Publisher<?>> run, Duration time) {
    StepVerifier.create(run.get())
        .then(() -> vts.advanceTimeBy(time))
        .thenConsumeWhile(o -> true)
        .expectComplete()
        .verify(Duration.ofSeconds(30));
  }

  <V> StepVerifier.FirstStep<V> virtual(Supplier<? extends Publisher<V>> p) {
    return StepVerifier.withVirtualTime(p, () -> vts, Long.MAX_VALUE);
  }
}
