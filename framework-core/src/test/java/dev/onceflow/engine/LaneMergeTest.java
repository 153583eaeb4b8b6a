package dev.onceflow.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;
import reactor.test.publisher.TestPublisher;

class LaneMergeTest {

  @Test
  void atMostConcurrencyInnersRunAtOnceAndEveryValueComesOut() {
    AtomicInteger running = new AtomicInteger();
    AtomicInteger most = new AtomicInteger();
    Flux<Integer> merged =
        new LaneMerge<>(
            Flux.range(0, 2_000),
            i ->
                Mono.fromCallable(
                        () -> {
                          most.accumulateAndGet(running.incrementAndGet(), Math::max);
                          return i;
                        })
                    .delayElement(Duration.ofMillis(1), Schedulers.parallel())
                    .doOnNext(x -> running.decrementAndGet())
                    .filter(x -> x % 3 != 0),
            16);
    StepVerifier.create(merged.count()).expectNext(1_333L).verifyComplete();
    assertThat(most.get()).isLessThanOrEqualTo(17).isGreaterThan(1);
  }

  @Test
  void aSlowSubscriberHoldsUpstreamBack() {
    java.util.concurrent.atomic.AtomicLong asked = new java.util.concurrent.atomic.AtomicLong();
    Flux<Integer> up = Flux.range(0, 100).doOnRequest(asked::addAndGet);
    StepVerifier.create(new LaneMerge<>(up, Mono::just, 4), 0)
        .then(() -> assertThat(asked.get()).isEqualTo(4))
        .thenRequest(2)
        .expectNextCount(2)
        .then(() -> assertThat(asked.get()).isEqualTo(6))
        .thenCancel()
        .verify();
  }

  @Test
  void anUpstreamErrorCancelsTheInnersAndIsSignalled() {
    TestPublisher<Integer> up = TestPublisher.create();
    TestPublisher<Integer> inner = TestPublisher.create();
    StepVerifier.create(new LaneMerge<>(up.flux(), i -> inner.mono(), 4))
        .then(() -> up.next(1))
        .then(() -> up.error(new IllegalStateException("broker gone")))
        .expectErrorMessage("broker gone")
        .verify();
    inner.assertCancelled();
  }

  @Test
  void cancellingCancelsUpstreamAndTheInners() {
    TestPublisher<Integer> up = TestPublisher.create();
    TestPublisher<Integer> inner = TestPublisher.create();
    StepVerifier.create(new LaneMerge<>(up.flux(), i -> inner.mono(), 4))
        .then(() -> up.next(1))
        .thenCancel()
        .verify();
    up.assertCancelled();
    inner.assertCancelled();
  }
}
