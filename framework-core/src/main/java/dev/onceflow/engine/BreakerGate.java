package dev.onceflow.engine;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * Holds deliveries before they take a lease while the circuit breaker is open, one per run. All
 * waiters share one poller (a timer on the run's scheduler, stopped when the run ends), so an open
 * breaker costs one check per poll whatever the number of waiters and however long it stays open.
 */
final class BreakerGate {
  private final @Nullable CircuitBreaker breaker;
  private final Duration poll;
  private final Scheduler scheduler;
  private final Mono<Void> runEnded;
  private final AtomicReference<@Nullable Mono<Void>> waiting = new AtomicReference<>();
  private volatile @Nullable Instant openSince;
  private volatile @Nullable Instant closedAt;

  BreakerGate(
      @Nullable CircuitBreaker breaker, Duration poll, Scheduler scheduler, Mono<Void> runEnded) {
    this.breaker = breaker;
    this.poll = poll;
    this.scheduler = scheduler;
    this.runEnded = runEnded;
  }

  /** Completes at once unless the breaker is open; then when it lets calls through again. */
  Mono<Void> await() {
    if (breaker == null) {
      return Mono.empty();
    }
    return Mono.defer(() -> passable() ? Mono.empty() : shared());
  }

  private Mono<Void> shared() {
    for (; ; ) {
      Mono<Void> current = waiting.get();
      if (current != null) {
        return current;
      }
      AtomicReference<@Nullable Mono<Void>> self = new AtomicReference<>();
      Mono<Void> fresh =
          Flux.interval(poll, poll, scheduler)
              .onBackpressureDrop()
              .filter(i -> passable())
              .next()
              .then()
              .takeUntilOther(runEnded)
              .doFinally(s -> waiting.compareAndSet(self.get(), null))
              // One poller for every waiter: the first subscription starts it, the others share
              // its end.
              .share();
      self.set(fresh);
      if (waiting.compareAndSet(null, fresh)) {
        return fresh;
      }
    }
  }

  /**
   * Whether a call may be tried: closed, half-open, or open with its wait over (asking for a
   * permission moves it to half-open; the permission is given back, the real call takes its own).
   */
  private boolean passable() {
    CircuitBreaker cb = breaker;
    if (cb == null) {
      return true;
    }
    CircuitBreaker.State s = cb.getState();
    boolean open = s == CircuitBreaker.State.OPEN || s == CircuitBreaker.State.FORCED_OPEN;
    if (open && s == CircuitBreaker.State.OPEN && cb.tryAcquirePermission()) {
      cb.releasePermission();
      open = false;
    }
    if (open && openSince == null) {
      openSince = Instant.ofEpochMilli(scheduler.now(TimeUnit.MILLISECONDS));
    }
    return !open;
  }

  /** Whether the breaker is open or half-open: the pipeline is paused for it. */
  boolean tripped() {
    CircuitBreaker cb = breaker;
    if (cb == null) {
      return false;
    }
    CircuitBreaker.State s = cb.getState();
    boolean tripped =
        s == CircuitBreaker.State.OPEN
            || s == CircuitBreaker.State.FORCED_OPEN
            || s == CircuitBreaker.State.HALF_OPEN;
    if (!tripped) {
      if (openSince != null) {
        openSince = null;
        closedAt = Instant.ofEpochMilli(scheduler.now(TimeUnit.MILLISECONDS));
      }
    } else if (openSince == null) {
      openSince = Instant.ofEpochMilli(scheduler.now(TimeUnit.MILLISECONDS));
    }
    return tripped;
  }

  @Nullable Instant openSince() {
    return openSince;
  }

  /** When the breaker was last seen closing again after it tripped, or null. */
  @Nullable Instant closedAt() {
    return closedAt;
  }

  @Nullable String describe() {
    CircuitBreaker cb = breaker;
    return cb == null ? null : "circuit breaker '" + cb.getName() + "' is " + cb.getState();
  }

  /**
   * Waits about one poll (0.5 to 1.5 polls, by {@code random} in [0, 1)): how a call refused by the
   * breaker waits before it asks again. The spread makes the next half-open probe anyone's, not
   * always the same message's.
   */
  Mono<Long> pause(double random) {
    return Mono.delay(Duration.ofNanos((long) (poll.toNanos() * (0.5 + random))), scheduler);
  }

  /** How long the breaker stays open before it lets a probe through, or one poll without one. */
  Duration openWait() {
    CircuitBreaker cb = breaker;
    if (cb == null) {
      return poll;
    }
    return Duration.ofMillis(
        Math.max(
            poll.toMillis(),
            cb.getCircuitBreakerConfig().getWaitIntervalFunctionInOpenState().apply(1)));
  }
}
