package dev.onceflow.engine;

import dev.onceflow.store.AcquireRequest;
import dev.onceflow.store.AcquireResult;
import dev.onceflow.store.Completion;
import dev.onceflow.store.EffectRejectedException;
import dev.onceflow.store.IdempotencyStore;
import dev.onceflow.store.Lease;
import dev.onceflow.store.OutcomeRecord;
import dev.onceflow.store.StoreException;
import java.time.Duration;
import java.util.function.Supplier;
import reactor.core.publisher.Mono;

/**
 * Times every store call into the metrics, and turns what a store throws or signals that is not a
 * {@link StoreException} (or an {@link EffectRejectedException}) into one: whatever a store does
 * wrong, the pipeline sees "unknown" and fails closed.
 */
final class MeteredStore implements IdempotencyStore {
  private final IdempotencyStore store;
  private final Metrics metrics;

  MeteredStore(IdempotencyStore store, Metrics metrics) {
    this.store = store;
    this.metrics = metrics;
  }

  @Override
  public Mono<AcquireResult> acquire(AcquireRequest request) {
    return timed("acquire", () -> store.acquire(request));
  }

  @Override
  public Mono<Boolean> complete(Lease lease, Completion completion) {
    return timed("complete", () -> store.complete(lease, completion));
  }

  @Override
  public Mono<Boolean> release(Lease lease) {
    return timed("release", () -> store.release(lease));
  }

  @Override
  public Mono<Boolean> extend(Lease lease, Duration ttl) {
    return timed("extend", () -> store.extend(lease, ttl));
  }

  @Override
  public Mono<OutcomeRecord> find(String namespace, String key) {
    return timed("find", () -> store.find(namespace, key));
  }

  private <V> Mono<V> timed(String operation, Supplier<Mono<V>> call) {
    return Mono.defer(
        () -> {
          long start = System.nanoTime();
          Mono<V> m = call.get();
          if (m == null) {
            return Mono.error(new StoreException("store " + operation + " returned null"));
          }
          return m.doOnSuccess(v -> metrics.store(operation, System.nanoTime() - start, true))
              .doOnError(ex -> metrics.store(operation, System.nanoTime() - start, false))
              .onErrorMap(
                  ex -> !(ex instanceof StoreException) && !(ex instanceof EffectRejectedException),
                  ex -> new StoreException("store " + operation + " failed: " + ex, ex));
        });
  }
}
