package dev.onceflow.test.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.onceflow.outcome.PipelineState;
import dev.onceflow.pipeline.Pipeline;
import dev.onceflow.pipeline.Retries;
import dev.onceflow.test.FaultyStore;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Outages of hours in virtual time: the waits are timers, so a breaker open for a day or a store
 * down for an hour costs constant stack, and everything is processed exactly once afterwards.
 */
@Timeout(120)
class PipelineSoakTest {

  private void breakerOpenFor(Duration outage) {
    Scenario s = new Scenario().publish(20);
    s.source.completeWhenDrained();
    s.dependencyDown.set(true);
    CircuitBreaker breaker = s.breaker(Duration.ofSeconds(60));
    Pipeline<String, String> p =
        s.pipeline(s.store)
            .retry(Retries.exponential(3, Duration.ofMillis(100)))
            .circuitBreaker(breaker)
            .concurrency(4)
            .build();

    s.virtual(p::outcomes)
        .thenAwait(outage)
        .then(
            () -> {
              assertThat(p.state().status()).isEqualTo(PipelineState.Status.PAUSED_BREAKER_OPEN);
              assertThat(s.deadLetters.deadLetters()).isEmpty();
              assertThat(s.source.acked()).isZero();
              assertThat(s.source.maxUnacked()).isLessThanOrEqualTo(4);
              s.dependencyDown.set(false);
            })
        .thenAwait(Duration.ofMinutes(5))
        // Processed, plus the nacks of messages that gave their place up while the breaker was
        // open (BREAKER_OPEN): none was dead-lettered.
        .thenConsumeWhile(o -> true)
        .verifyComplete();

    assertThat(s.applied()).hasSize(20).allSatisfy((k, v) -> assertThat(v).isEqualTo("1"));
    assertThat(s.deadLetters.deadLetters()).isEmpty();
    assertThat(p.ledger().processed()).isEqualTo(20);
    assertThat(p.ledger().balanced()).isTrue();
    assertThat(p.state().status()).isEqualTo(PipelineState.Status.STOPPED);
  }

  @Test
  void breakerOpenForAnHourThenEveryMessageIsProcessedOnce() {
    breakerOpenFor(Duration.ofHours(1));
  }

  @Test
  void breakerOpenForADayThenEveryMessageIsProcessedOnce() {
    breakerOpenFor(Duration.ofHours(24));
  }

  @Test
  void storeDownForAnHourThenEveryMessageIsProcessedOnce() {
    Scenario s = new Scenario().publish(20);
    s.source.completeWhenDrained();
    FaultyStore faulty = FaultyStore.wrap(s.store).outage(true);
    Pipeline<String, String> p =
        s.pipeline(faulty)
            .concurrency(4)
            .storeRetry(Duration.ofMillis(100), Duration.ofSeconds(5))
            .build();

    s.virtual(p::outcomes)
        .thenAwait(Duration.ofHours(1))
        .then(
            () -> {
              assertThat(p.state().status())
                  .isEqualTo(PipelineState.Status.PAUSED_STORE_UNAVAILABLE);
              assertThat(s.handlerCalls).hasValue(0);
              assertThat(s.source.acked()).isZero();
              assertThat(s.deadLetters.deadLetters()).isEmpty();
              faulty.outage(false);
            })
        .thenAwait(Duration.ofMinutes(1))
        .thenConsumeWhile(o -> true)
        .verifyComplete();

    // Paused, not spinning: an hour with a 5 s cap on the backoff is some 720 probes.
    assertThat(faulty.calls(FaultyStore.Operation.ACQUIRE)).isBetween(20L, 2_000L);
    assertThat(s.applied()).hasSize(20).allSatisfy((k, v) -> assertThat(v).isEqualTo("1"));
    assertThat(p.ledger().processed()).isEqualTo(20);
    assertThat(p.ledger().balanced()).isTrue();
  }

  @Test
  void stopInTheMiddleOfAnHourLongStoreOutageCompletesWithinItsTimeout() {
    Scenario s = new Scenario().publish(20);
    FaultyStore faulty = FaultyStore.wrap(s.store).outage(true);
    Pipeline<String, String> p = s.pipeline(faulty).concurrency(4).build();
    AtomicReference<Long> stoppedAt = new AtomicReference<>();
    long[] askedAt = new long[1];

    s.virtual(p::outcomes)
        .thenAwait(Duration.ofMinutes(30))
        .then(
            () -> {
              askedAt[0] = s.vts.now(java.util.concurrent.TimeUnit.MILLISECONDS);
              p.stop(Duration.ofSeconds(10))
                  .subscribe(
                      v -> {},
                      e -> {},
                      () -> stoppedAt.set(s.vts.now(java.util.concurrent.TimeUnit.MILLISECONDS)));
            })
        .thenAwait(Duration.ofSeconds(11))
        .thenConsumeWhile(o -> true)
        .verifyComplete();

    assertThat(stoppedAt.get()).isNotNull();
    assertThat(stoppedAt.get() - askedAt[0]).isLessThanOrEqualTo(10_000);
    assertThat(s.handlerCalls).hasValue(0);
    assertThat(s.source.acked()).isZero();
    assertThat(p.ledger().balanced()).isTrue();
    assertThat(p.ledger().inFlight()).isZero();
    assertThat(p.running()).isFalse();
  }

  @Test
  void stopAfterFiveMinutesOfOpenBreakerStopsAndARestartProcessesEverything() {
    Scenario s = new Scenario().publish(20);
    s.dependencyDown.set(true);
    CircuitBreaker breaker = s.breaker(Duration.ofSeconds(30));
    Pipeline<String, String> p =
        s.pipeline(s.store)
            .retry(Retries.exponential(3, Duration.ofMillis(100)))
            .circuitBreaker(breaker)
            .concurrency(4)
            .build();

    // Two runs in one virtual timeline: the second starts once the first has stopped.
    s.virtual(
            () ->
                p.outcomes()
                    .concatWith(
                        reactor.core.publisher.Flux.defer(
                            () -> {
                              assertThat(p.running()).isFalse();
                              assertThat(s.deadLetters.deadLetters()).isEmpty();
                              assertThat(s.source.acked()).isZero();
                              s.dependencyDown.set(false);
                              s.source.completeWhenDrained();
                              return p.outcomes();
                            })))
        .thenAwait(Duration.ofMinutes(5))
        .then(() -> p.stop(Duration.ofSeconds(5)).subscribe())
        .thenAwait(Duration.ofMinutes(5))
        .thenConsumeWhile(o -> true)
        .verifyComplete();
    assertThat(s.applied()).hasSize(20).allSatisfy((k, v) -> assertThat(v).isEqualTo("1"));
    assertThat(s.deadLetters.deadLetters()).isEmpty();
    assertThat(p.ledger().balanced()).isTrue();
  }
}
