package dev.onceflow.test.engine;

import dev.onceflow.store.AcquireRequest;
import dev.onceflow.store.AcquireResult;
import dev.onceflow.store.Completion;
import dev.onceflow.store.IdempotencyStore;
import dev.onceflow.store.Lease;
import dev.onceflow.store.OutcomeRecord;
import java.time.Duration;
import reactor.core.publisher.Mono;

/** A store that forwards every call; tests override the calls they bend. */
class ForwardingStore implements IdempotencyStore {
  private final IdempotencyStore delegate;

  ForwardingStore(IdempotencyStore delegate) {
    this.delegate = delegate;
  }

  @Override
  public Mono<AcquireResult> acquire(AcquireRequest request) {
    return delegate.acquire(request);
  }

  @Override
  public Mono<Boolean> complete(Lease lease, Completion completion) {
    return delegate.complete(lease, completion);
  }

  @Override
  public Mono<Boolean> release(Lease lease) {
    return delegate.release(lease);
  }

  @Override
  public Mono<Boolean> extend(Lease lease, Duration ttl) {
    return delegate.extend(lease, ttl);
  }

  @Override
  public Mono<OutcomeRecord> find(String namespace, String key) {
    return delegate.find(namespace, key);
  }
}
