package dev.onceflow.engine;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * Fail-closed pacing of store calls, one per run. After a store error the gate pauses: deliveries
 * wait before acquiring (so the pipeline stops pulling), then one probe goes through; a success
 * lets all through again, a failure pauses longer (doubling up to a maximum). A wait is a timer
 * ({@code repeatWhenEmpty}), so an outage of any length costs constant stack.
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
  private final AtomicLong probingSince = new AtomicLong();
  private volatile int failures;
  private volatile @Nullable Instant pausedSince;
  private volatile @Nullable Throwable lastError;
  private volatile @Nullable Instant resumedAt;

  StoreGate(Scheduler scheduler, Duration first, Duration max) {
    this.scheduler = scheduler;
    this.firstMillis = Math.max(1, first.toMillis());
    this.maxMillis = Math.max(firstMillis, max.toMillis());
  }

  /** Completes when the caller may call the store. */
  Mono<Void> await() {
    return Mono.defer(() -> tryEnter() ? Mono.just(Boolean.TRUE) : Mono.<Boolean>empty())
        .repeatWhenEmpty(
            Integer.MAX_VALUE,
            waits -> waits.concatMap(i -> Mono.delay(Duration.ofMillis(waitMillis()), scheduler)))
        .then();
  }

  private boolean tryEnter() {
    int s = state.get();
    if (s == FLOWING) {
      return true;
    }
    long now = scheduler.now(TimeUnit.MILLISECONDS);
    if (s == PAUSED && now >= pausedUntil && state.compareAndSet(PAUSED, PROBING)) {
      probingSince.set(now);
      return true;
    }
    // A probe that never came back (its delivery was cancelled, its call hangs) must not hold
    // the gate shut: after a long while another caller probes.
    long since = probingSince.get();
    return s == PROBING && now - since >= 4 * maxMillis && probingSince.compareAndSet(since, now);
  }

  private long waitMillis() {
    long now = scheduler.now(TimeUnit.MILLISECONDS);
    return state.get() == PAUSED ? Math.max(1, pausedUntil - now) : firstMillis;
  }

  void success() {
    if (state.get() != FLOWING) {
      failures = 0;
      pausedSince = null;
      lastError = null;
      resumedAt = Instant.ofEpochMilli(scheduler.now(TimeUnit.MILLISECONDS));
      state.set(FLOWING);
    }
  }

  /** When the gate last opened again after a pause, or null. */
  @Nullable Instant resumedAt() {
    return resumedAt;
  }

  void failure(Throwable error) {
    int f = Math.min(failures + 1, 30);
    failures = f;
    long backoff = Math.min(maxMillis, firstMillis << Math.min(f - 1, 20));
    long now = scheduler.now(TimeUnit.MILLISECONDS);
    pausedUntil = now + backoff;
    lastError = error;
    if (pausedSince == null) {
      pausedSince = Instant.ofEpochMilli(now);
    }
    state.set(PAUSED);
  }

  boolean paused() {
    return state.get() != FLOWING;
  }

  @Nullable Instant pausedSince() {
    return pausedSince;
  }

  @Nullable Throwable lastError() {
    return lastError;
  }
}
