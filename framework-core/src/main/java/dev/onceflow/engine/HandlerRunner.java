package dev.onceflow.engine;

import dev.onceflow.deadletter.DeadLetterReason;
import dev.onceflow.handler.Handled;
import dev.onceflow.handler.Message;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import reactor.core.Exceptions;
import reactor.core.publisher.Mono;

/**
 * Runs the handler of one message: attempts with backoff, under the circuit breaker. The result is
 * a success or the failure that ends the message; the returned {@code Mono} never errors.
 *
 * <p>Outage is not poison: a call the breaker refuses, and a retryable failure of a call made while
 * the breaker was closed that finds the breaker tripped, use up no attempt; they wait for the
 * breaker. A call made as a half-open probe is a real attempt, so a poison message cannot hold the
 * breaker open by failing every probe. Waits are timers ({@code repeatWhenEmpty}).
 */
final class HandlerRunner {

  /** How a message's handling ended. */
  record Result(
      @Nullable Handled<Object> handled,
      @Nullable Throwable failure,
      @Nullable DeadLetterReason reason,
      int attempts,
      @Nullable Instant firstFailure,
      @Nullable Instant lastFailure) {

    boolean failed() {
      return failure != null;
    }

    static Result failed(
        Throwable t, DeadLetterReason reason, int attempts, Instant first, Instant last) {
      return new Result(null, t, reason, attempts, first, last);
    }
  }

  /** The user broke the handler's contract (a null Mono): not retried. */
  static final class HandlerContractException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    HandlerContractException(String message) {
      super(message);
    }
  }

  private final EngineConfig config;
  private final BreakerGate breakerGate;
  private final Metrics metrics;
  private final SafeListener listener;

  /** Handler successes of this run: the evidence that the dependency works. */
  private final AtomicLong successes = new AtomicLong();

  HandlerRunner(
      EngineConfig config, BreakerGate breakerGate, Metrics metrics, SafeListener listener) {
    this.config = config;
    this.breakerGate = breakerGate;
    this.metrics = metrics;
    this.listener = listener;
  }

  /** The attempts of one message. */
  private final class Attempts {
    final Message<Object> base;
    int attempt = 1;
    @Nullable Instant firstFailure;

    /** What to wait for before the next try: the breaker, or a backoff. */
    @Nullable Duration backoff;

    /** The run's successes when this message started or last failed. */
    long successesSeen;

    Attempts(Message<Object> base) {
      this.base = base;
      this.successesSeen = successes.get();
    }

    Mono<Long> pause() {
      Duration b = backoff;
      backoff = null;
      return b == null ? breakerGate.pause() : Mono.delay(b, config.scheduler());
    }
  }

  Mono<Result> run(Message<Object> message) {
    return Mono.defer(
        () -> {
          Attempts a = new Attempts(message);
          return Mono.defer(() -> attemptOnce(a))
              .repeatWhenEmpty(Integer.MAX_VALUE, tries -> tries.concatMap(i -> a.pause()));
        });
  }

  /** One try: the final result, or empty when it is to be tried again after {@code a.pause()}. */
  private Mono<Result> attemptOnce(Attempts a) {
    CircuitBreaker cb = config.breaker();
    if (cb != null && !cb.tryAcquirePermission()) {
      return Mono.empty();
    }
    int n = a.attempt;
    Message<Object> m =
        n == 1
            ? a.base
            : new Message<>(a.base.payload(), a.base.envelope(), a.base.key(), a.base.fence(), n);
    listener.handlerStarted(m.envelope(), m.key(), m.fence(), n);
    long start = System.nanoTime();
    Mono<Handled<Object>> call;
    try {
      call = config.handler().apply(m);
      if (call == null) {
        call =
            Mono.error(
                new HandlerContractException(
                    "the handler of pipeline '"
                        + config.name()
                        + "' returned null instead of a Mono; return Mono.empty() for no result"));
      }
    } catch (Throwable t) {
      Exceptions.throwIfJvmFatal(t);
      call = Mono.error(t);
    }
    AtomicBoolean done = new AtomicBoolean();
    return call.defaultIfEmpty(Handled.of(null))
        .map(
            h -> {
              done.set(true);
              successes.incrementAndGet();
              long nanos = System.nanoTime() - start;
              metrics.handler(nanos, true);
              if (cb != null) {
                cb.onSuccess(nanos, TimeUnit.NANOSECONDS);
              }
              listener.handlerFinished(m.envelope(), m.key(), m.fence(), n, null);
              return new Result(h, null, null, n, null, null);
            })
        .onErrorResume(
            err -> {
              done.set(true);
              long nanos = System.nanoTime() - start;
              metrics.handler(nanos, false);
              if (cb != null) {
                cb.onError(nanos, TimeUnit.NANOSECONDS, err);
              }
              listener.handlerFinished(m.envelope(), m.key(), m.fence(), n, err);
              return decide(a, err);
            })
        .doOnCancel(
            () -> {
              if (cb != null && !done.get()) {
                cb.releasePermission();
              }
            });
  }

  private Mono<Result> decide(Attempts a, Throwable err) {
    Instant now = config.clock().instant();
    Instant first = a.firstFailure == null ? now : a.firstFailure;
    a.firstFailure = first;
    int n = a.attempt;
    if (err instanceof HandlerContractException || !config.retry().retryable().test(err)) {
      return Mono.just(Result.failed(err, DeadLetterReason.NON_RETRYABLE, n, first, now));
    }
    long seen = a.successesSeen;
    a.successesSeen = successes.get();
    if (a.successesSeen == seen && breakerGate.tripped()) {
      // The dependency is failing as a whole, not this message: wait for the breaker.
      return Mono.empty();
    }
    if (n >= config.retry().maxAttempts()) {
      return Mono.just(Result.failed(err, DeadLetterReason.HANDLER_FAILED, n, first, now));
    }
    a.attempt = n + 1;
    a.backoff = config.retry().backoff().before(n + 1, ThreadLocalRandom.current().nextDouble());
    return Mono.empty();
  }
}
