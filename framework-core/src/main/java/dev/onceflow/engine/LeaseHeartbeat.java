package dev.onceflow.engine;

import dev.onceflow.store.IdempotencyStore;
import dev.onceflow.store.Lease;
import java.time.Duration;
import java.util.Collection;
import java.util.concurrent.TimeUnit;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * Extends the leases of handlers that outlived a fraction of their lease: one ticker per run, so
 * that a message costs no timer of its own. When the store answers that a lease was lost (taken
 * over after it expired), the handler is cancelled and its work is not treated as owned: no
 * complete, no ack. A store error is not a loss: the next tick tries again, and complete tells the
 * truth in the end.
 */
final class LeaseHeartbeat {
  /** Extensions in flight at once; the store batches them. */
  private static final int CONCURRENCY = 256;

  private final IdempotencyStore store;
  private final Duration lease;
  private final long everyMillis;
  private final Scheduler scheduler;
  private final Collection<InFlight> inFlight;

  LeaseHeartbeat(
      IdempotencyStore store,
      Duration lease,
      double fraction,
      Scheduler scheduler,
      Collection<InFlight> inFlight) {
    this.store = store;
    this.lease = lease;
    this.everyMillis = Math.max(1, (long) (lease.toMillis() * fraction));
    this.scheduler = scheduler;
    this.inFlight = inFlight;
  }

  /**
   * Runs {@code work} (the handler's attempts) with the lease extended while it runs. Empty when
   * the lease was lost: {@code work} is cancelled.
   */
  <V> Mono<V> guard(Mono<V> work, InFlight f) {
    return Mono.defer(
        () -> {
          beatFrom(f);
          return work.takeUntilOther(f.lostSignal()).doFinally(s -> f.beating = false);
        });
  }

  /** Marks {@code f}'s handler as running under its lease, due for extension later. */
  void beatFrom(InFlight f) {
    f.nextBeatAt = scheduler.now(TimeUnit.MILLISECONDS) + everyMillis;
    f.beating = true;
  }

  /** The ticker: runs until cancelled. */
  Mono<Void> run() {
    Duration tick = Duration.ofMillis(Math.max(1, everyMillis / 2));
    return Flux.interval(tick, tick, scheduler)
        .onBackpressureDrop()
        .concatMap(i -> beat(), 1)
        .then();
  }

  private Mono<Void> beat() {
    long now = scheduler.now(TimeUnit.MILLISECONDS);
    return Flux.fromIterable(inFlight)
        .filter(f -> f.beating && now >= f.nextBeatAt && f.lease != null)
        .flatMap(f -> extend(f, now), CONCURRENCY)
        .then();
  }

  private Mono<Void> extend(InFlight f, long now) {
    Lease l = f.lease;
    if (l == null) {
      return Mono.empty();
    }
    return store
        .extend(l, lease)
        .doOnNext(
            ok -> {
              if (ok) {
                f.nextBeatAt = now + everyMillis;
              } else {
                f.lose();
              }
            })
        .onErrorResume(e -> Mono.empty())
        .then();
  }
}
