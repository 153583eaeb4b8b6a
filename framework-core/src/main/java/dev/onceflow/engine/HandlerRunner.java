package dev.onceflow.engine;

import dev.onceflow.deadletter.DeadLetterReason;
import dev.onceflow.handler.Handled;
import dev.onceflow.handler.Message;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.Exceptions;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Runs the handler of one message: attempts with backoff, under the circuit breaker. The result is
 * a success or the failure that ends the message; the returned {@code Mono} never errors.
 *
 * <p>Outage is not poison: a call the breaker refuses uses up no attempt, and neither does a
 * retryable failure that finds the breaker tripped, unless the dependency demonstrably worked after
 * this message first failed or was refused by the breaker: more messages succeeded since then than
 * could have been in flight at that moment (the concurrency). Then the message, not the dependency,
 * is the problem, and its failures count even as half-open probes, so a poison message cannot hold
 * the breaker open. A message that keeps failing uncounted gives its place up (nacked, redelivered
 * later) so that another message probes next; what it had used up follows it to its redelivery.
 * Waits are timers ({@code repeatWhenEmpty}).
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

    /** Failed for good: to be dead-lettered with {@link #reason()}. */
    boolean failed() {
      return failure != null && reason != null;
    }

    /**
     * Gave its place up: it failed {@link #YIELD_AFTER} half-open probes in a row while no other
     * message succeeded, so it is nacked and redelivered later, letting another message probe.
     */
    boolean yielded() {
      return failure != null && reason == null;
    }

    static Result failed(
        Throwable t, DeadLetterReason reason, int attempts, Instant first, Instant last) {
      return new Result(null, t, reason, attempts, first, last);
    }
  }

  /** Failures not counted (breaker tripped, no evidence) after which a message yields. */
  static final int YIELD_AFTER = 3;

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

  /** What a message that yielded had used up; its redelivery picks it up. */
  private record Used(int attempt, long successesAtFirstTrouble, Instant firstFailure) {}

  /** Keys that yielded their place. Bounded; the oldest entries go first. */
  private final Map<String, Used> yielded =
      Collections.synchronizedMap(
          new LinkedHashMap<>() {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Used> eldest) {
              return size() > YIELDED_KEYS;
            }
          });

  /** How many yielded keys are remembered at most. */
  private static final int YIELDED_KEYS = 10_000;

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

    /** The run's successes when this message first failed or was refused by the breaker, or -1. */
    long successesAtFirstTrouble = -1;

    /** Failures in a row not counted as attempts (the dependency looked down). */
    int uncounted;

    Attempts(Message<Object> base) {
      this.base = base;
      Used used = yielded.isEmpty() ? null : yielded.remove(base.key());
      if (used != null) {
        this.attempt = used.attempt();
        this.successesAtFirstTrouble = used.successesAtFirstTrouble();
        this.firstFailure = used.firstFailure();
      }
    }

    Publisher<Long> pauses(Flux<Long> tries) {
      return tries.concatMap(i -> pause());
    }

    Mono<Long> pause() {
      Duration b = backoff;
      backoff = null;
      return b == null
          ? breakerGate.pause(ThreadLocalRandom.current().nextDouble())
          : Mono.delay(b, config.scheduler());
    }
  }

  Mono<Result> run(Message<Object> message) {
    return Mono.defer(
        () -> {
          Attempts a = new Attempts(message);
          return Mono.defer(() -> attemptOnce(a)).repeatWhenEmpty(Integer.MAX_VALUE, a::pauses);
        });
  }

  /** Goes on after a first attempt that {@link #failedCall failed}, made outside this runner. */
  Mono<Result> resume(Message<Object> message, Throwable firstError) {
    return Mono.defer(
        () -> {
          Attempts a = new Attempts(message);
          return decide(a, firstError)
              .switchIfEmpty(
                  a.pause()
                      .then(
                          Mono.defer(() -> attemptOnce(a))
                              .repeatWhenEmpty(Integer.MAX_VALUE, a::pauses)));
        });
  }

  /** Whether {@code key} starts with no history (it did not yield its place before). */
  boolean fresh(String key) {
    return yielded.isEmpty() || !yielded.containsKey(key);
  }

  /** Asks the breaker for a call's permission (true without a breaker). */
  boolean permit() {
    CircuitBreaker cb = config.breaker();
    return cb == null || cb.tryAcquirePermission();
  }

  /** Gives a permission back, for a call cancelled before it ended. */
  void unpermit() {
    CircuitBreaker cb = config.breaker();
    if (cb != null) {
      cb.releasePermission();
    }
  }

  /** Books a call made outside this runner that succeeded after {@code nanos}. */
  void succeededCall(Message<Object> m, long nanos) {
    successes.incrementAndGet();
    metrics.handler(nanos, true);
    CircuitBreaker cb = config.breaker();
    if (cb != null) {
      cb.onSuccess(nanos, TimeUnit.NANOSECONDS);
    }
    listener.handlerFinished(m.envelope(), m.key(), m.fence(), m.attempt(), null);
  }

  /** Books a call made outside this runner that failed after {@code nanos}. */
  void failedCall(Message<Object> m, long nanos, Throwable err) {
    metrics.handler(nanos, false);
    CircuitBreaker cb = config.breaker();
    if (cb != null) {
      cb.onError(nanos, TimeUnit.NANOSECONDS, err);
    }
    listener.handlerFinished(m.envelope(), m.key(), m.fence(), m.attempt(), err);
  }

  /** Calls the handler once: its Mono, or an error Mono for what it threw or a null. */
  Mono<Handled<Object>> call(Message<Object> m) {
    listener.handlerStarted(m.envelope(), m.key(), m.fence(), m.attempt());
    try {
      Mono<Handled<Object>> call = config.handler().apply(m);
      if (call == null) {
        return Mono.error(
            new HandlerContractException(
                "the handler of pipeline '"
                    + config.name()
                    + "' returned null instead of a Mono; return Mono.empty() for no result"));
      }
      return call;
    } catch (Throwable t) {
      Exceptions.throwIfJvmFatal(t);
      return Mono.error(t);
    }
  }

  /** One try: the final result, or empty when it is to be tried again after {@code a.pause()}. */
  private Mono<Result> attemptOnce(Attempts a) {
    CircuitBreaker cb = config.breaker();
    if (cb != null && !cb.tryAcquirePermission()) {
      if (a.successesAtFirstTrouble < 0) {
        a.successesAtFirstTrouble = successes.get();
      }
      return Mono.empty();
    }
    int n = a.attempt;
    Message<Object> m =
        n == 1
            ? a.base
            : new Message<>(a.base.payload(), a.base.envelope(), a.base.key(), a.base.fence(), n);
    long start = System.nanoTime();
    Mono<Handled<Object>> call = call(m);
    AtomicBoolean done = new AtomicBoolean();
    return call.defaultIfEmpty(Handled.of(null))
        .map(
            h -> {
              done.set(true);
              succeededCall(m, System.nanoTime() - start);
              return new Result(h, null, null, n, null, null);
            })
        .onErrorResume(
            err -> {
              done.set(true);
              failedCall(m, System.nanoTime() - start, err);
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
    if (a.successesAtFirstTrouble < 0) {
      a.successesAtFirstTrouble = successes.get();
    }
    boolean dependencyWorks = successes.get() - a.successesAtFirstTrouble > config.concurrency();
    if (!dependencyWorks && breakerGate.tripped()) {
      // As far as anyone can tell the dependency is down: wait for the breaker. A message that
      // keeps failing gives its place up, so that the next probe is another message's.
      if (++a.uncounted >= YIELD_AFTER) {
        yielded.put(a.base.key(), new Used(n, a.successesAtFirstTrouble, first));
        return Mono.just(new Result(null, err, null, n, first, now));
      }
      return Mono.empty();
    }
    a.uncounted = 0;
    if (n >= config.retry().maxAttempts()) {
      return Mono.just(Result.failed(err, DeadLetterReason.HANDLER_FAILED, n, first, now));
    }
    a.attempt = n + 1;
    a.backoff = config.retry().backoff().before(n + 1, ThreadLocalRandom.current().nextDouble());
    return Mono.empty();
  }
}
