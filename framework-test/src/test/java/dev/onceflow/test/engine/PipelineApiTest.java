package dev.onceflow.test.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.onceflow.deadletter.DeadLetterReason;
import dev.onceflow.handler.Handled;
import dev.onceflow.outcome.Outcome;
import dev.onceflow.outcome.PipelineState.Status;
import dev.onceflow.pipeline.Decoder;
import dev.onceflow.pipeline.Dedup;
import dev.onceflow.pipeline.Onceflow;
import dev.onceflow.pipeline.Pipeline;
import dev.onceflow.pipeline.Retries;
import dev.onceflow.test.FaultyStore;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/** What a new user meets: build-time refusals, defaults, state, the outcome view, metrics. */
class PipelineApiTest {

  private final Scenario s = new Scenario();

  @Test
  void handleWithEffectsWithoutDeduplicationIsRefusedAtBuild() {
    assertThatThrownBy(
            () ->
                Onceflow.consume(s.source)
                    .handleWithEffects(m -> Mono.just(Handled.of("x")))
                    .deadLetterTo(s.deadLetters)
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("handleWithEffects(...) needs deduplicate(...)");
  }

  @Test
  void aNullArgumentIsAnIllegalArgumentExceptionThatNamesTheOption() {
    assertThatThrownBy(() -> Onceflow.consume(s.source).handle(null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("handler must not be null");
    assertThatThrownBy(() -> Onceflow.consume(s.source).deadLetterTo(null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("sink must not be null");
    assertThatThrownBy(() -> Dedup.byMessageId(s.store).lease(null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("lease must not be null");
  }

  @Test
  void theDefaultRetriesAreThreeAttemptsWithBackoff() {
    s.source.publish("flaky", "p").completeWhenDrained();
    int[] calls = {0};
    Pipeline<String, Object> p =
        Onceflow.consume(s.source)
            .name("orders")
            .scheduler(s.vts)
            .decode(Decoder.utf8())
            .deduplicate(Dedup.byMessageId(s.store))
            .handle(
                m ->
                    ++calls[0] < 3
                        ? Mono.error(new IllegalStateException("transient"))
                        : Mono.just((Object) "ok"))
            .deadLetterTo(s.deadLetters)
            .build();
    List<Outcome<Object>> outcomes = new CopyOnWriteArrayList<>();
    s.runFor(() -> p.outcomes().doOnNext(outcomes::add), Duration.ofSeconds(10));
    assertThat(calls[0]).isEqualTo(3);
    assertThat(outcomes)
        .singleElement()
        .isInstanceOfSatisfying(
            Outcome.Processed.class, o -> assertThat(o.attempts()).isEqualTo(3));
    assertThat(Retries.defaults().maxAttempts()).isEqualTo(3);
  }

  @Test
  void aSecondStartThrowsWithoutLoggingThatThePipelineStopped() {
    Logger engineLog = (Logger) LoggerFactory.getLogger("dev.onceflow.engine.Engine");
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    engineLog.addAppender(appender);
    Pipeline<String, String> p = s.pipeline(s.store).build();
    Disposable first = p.start();
    try {
      assertThatThrownBy(p::start)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("already running");
      assertThat(p.running()).isTrue();
      assertThat(appender.list).noneMatch(e -> e.getFormattedMessage().contains("stopped"));
    } finally {
      first.dispose();
      engineLog.detachAppender(appender);
    }
  }

  @Test
  void theStateSaysRunningPausedOnTheStoreOrTheBreakerStoppingStoppedOrFailed() {
    FaultyStore faulty = FaultyStore.wrap(s.store);
    CircuitBreaker breaker = s.breaker(Duration.ofMinutes(1));
    s.publish(4);
    Pipeline<String, String> p =
        s.pipeline(faulty).circuitBreaker(breaker).retry(Retries.none()).concurrency(1).build();
    assertThat(p.state().status()).isEqualTo(Status.STOPPED);
    Disposable run = p.start();
    s.vts.advanceTimeBy(Duration.ofSeconds(1));
    assertThat(p.state().status()).isEqualTo(Status.RUNNING);
    assertThat(p.state().up()).isTrue();

    faulty.outage(true);
    s.publish(1);
    s.source.publish("late", "p");
    s.vts.advanceTimeBy(Duration.ofSeconds(1));
    assertThat(p.state().status()).isEqualTo(Status.PAUSED_STORE_UNAVAILABLE);
    assertThat(p.state().cause()).isNotNull();
    assertThat(p.state().up()).isFalse();
    assertThat(p.state().active()).isTrue();
    faulty.outage(false);
    s.vts.advanceTimeBy(Duration.ofSeconds(10));
    assertThat(p.state().status()).isEqualTo(Status.RUNNING);

    breaker.transitionToOpenState();
    assertThat(p.state().status()).isEqualTo(Status.PAUSED_BREAKER_OPEN);
    assertThat(p.state().detail()).contains("billing");
    breaker.transitionToClosedState();

    p.stop(Duration.ofSeconds(5)).subscribe();
    assertThat(p.state().status()).isIn(Status.STOPPING, Status.STOPPED);
    s.vts.advanceTimeBy(Duration.ofSeconds(6));
    assertThat(p.state().status()).isEqualTo(Status.STOPPED);
    run.dispose();

    Pipeline<String, String> failing =
        Onceflow.consume(
                new dev.onceflow.core.MessageSource() {
                  @Override
                  public String name() {
                    return "broken";
                  }

                  @Override
                  public reactor.core.publisher.Flux<dev.onceflow.core.Delivery> receive() {
                    return reactor.core.publisher.Flux.error(
                        new IllegalStateException("broker gone"));
                  }
                })
            .scheduler(s.vts)
            .decode(Decoder.utf8())
            .<String>handle(m -> Mono.just(m.payload()))
            .deadLetterTo(s.deadLetters)
            .build();
    failing.start();
    s.vts.advanceTimeBy(Duration.ofSeconds(1));
    assertThat(failing.state().status()).isEqualTo(Status.FAILED);
    assertThat(failing.state().cause()).hasMessage("broker gone");
  }

  @Test
  void observeShowsTheOutcomesOfAPipelineStartedInTheBackground() {
    s.publish(5);
    Pipeline<String, String> p = s.pipeline(s.store).build();
    List<Outcome<String>> seen = new CopyOnWriteArrayList<>();
    Disposable watching = p.observe().subscribe(seen::add);
    Disposable run = p.start();
    s.vts.advanceTimeBy(Duration.ofSeconds(5));
    assertThat(seen).hasSize(5).allMatch(o -> o instanceof Outcome.Processed);
    // A second watcher sees what comes after it subscribed.
    List<Outcome<String>> later = new CopyOnWriteArrayList<>();
    Disposable second = p.observe().subscribe(later::add);
    s.source.publish("m0", "again");
    s.vts.advanceTimeBy(Duration.ofSeconds(5));
    assertThat(later).singleElement().isInstanceOf(Outcome.Duplicate.class);
    assertThat(seen).hasSize(6);
    watching.dispose();
    second.dispose();
    run.dispose();
  }

  @Test
  void theInFlightGaugeStillReadsAfterGarbageCollection() throws InterruptedException {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    s.publish(3);
    Pipeline<String, String> p =
        Onceflow.consume(s.source)
            .name("orders")
            .scheduler(s.vts)
            .decode(Decoder.utf8())
            .deduplicate(Dedup.byMessageId(s.store))
            .<String>handle(m -> Mono.<String>never())
            .deadLetterTo(s.deadLetters)
            .metrics(meters)
            .build();
    Disposable run = p.start();
    s.vts.advanceTimeBy(Duration.ofSeconds(1));
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(20);
    }
    double inFlight = meters.get("onceflow.inflight").gauge().value();
    assertThat(inFlight).isEqualTo(3.0);
    run.dispose();
  }

  @Test
  void aKeyTooLongForTheDefaultLimitIsDeadLetteredAsInvalidKey() {
    s.source.publish("x".repeat(2000), "p").completeWhenDrained();
    Pipeline<String, String> p = s.pipeline(s.store).build();
    s.runFor(p::outcomes, Duration.ofSeconds(5));
    assertThat(s.deadLetters.deadLetters())
        .singleElement()
        .satisfies(dl -> assertThat(dl.reason()).isEqualTo(DeadLetterReason.INVALID_KEY));
    assertThat(s.store.size()).isZero();
  }
}
