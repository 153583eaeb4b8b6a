package dev.onceflow.internal;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * Fail-closed pacing of store calls. After a store error the gate pauses: deliveries wait before
 * acquiring (so the pipeline stops pulling), then one probe goes through; a success lets all
 * through again, a failure pauses longer (doubling up to a maximum).
 */
final class StoreGate {
  private static final int FLOWING = 0;
  private static final int PAUSED = 1;
  private static final int PROBING = 2;

  private final Scheduler scheduler;
  private final long firstMillis;
  private final long maxMillis;
  private final AtomicInteger state = new AtomicInteger(FLOWING);
  private volatile long pausedUntil;
  private volatile int failures;

  StoreGate(Scheduler scheduler, Duration first, Duration max) {
    this.scheduler = scheduler;
    this.firstMillis = first.toMillis();
    this.maxMillis = max.toMillis();
  }

  /** Completes when the caller may call the store. */
  Mono<Void> await() {
    return Mono.defer(
        () -> {
          int s = state.get();
          if (s == FLOWING) {
            return Mono.empty();
          }
          long now = scheduler.now(TimeUnit.MILLISECONDS);
          if (s == PAUSED && now >= pausedUntil && state.compareAndSet(PAUSED, PROBING)) {
            return Mono.empty();
          }
          long wait = s == PAUSED ? Math.max(1, pausedUntil - now) : firstMillis;
          return Mono.delay(Duration.ofMillis(wait), scheduler).then(await());
        });
  }

  void success() {
    if (state.get() != FLOWING) {
      failures = 0;
      state.set(FLOWING);
    }
  }

  void failure() {
    int f = Math.min(failures + 1, 30);
    failures = f;
    long backoff = Math.min(maxMillis, firstMillis << Math.min(f - 1, 20));
    pausedUntil = scheduler.now(TimeUnit.MILLISECONDS) + backoff;
    state.set(PAUSED);
  }

  boolean paused() {
    return state.get() != FLOWING;
  }
}
