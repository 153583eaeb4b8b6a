package dev.onceflow.test;

import dev.onceflow.store.AcquireRequest;
import dev.onceflow.store.AcquireResult;
import dev.onceflow.store.Completion;
import dev.onceflow.store.IdempotencyStore;
import dev.onceflow.store.Lease;
import dev.onceflow.store.OutcomeRecord;
import dev.onceflow.store.StoreException;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * Wraps a store and injects faults: failures of chosen operations, a total outage, latency, and
 * crashes at a chosen point. Thread-safe. A failed operation does not reach the wrapped store.
 *
 * <p>A <em>crash</em> models the death of the process that uses this wrapper: when the crash point
 * is reached the operation never answers, and every later operation through this wrapper fails, so
 * the dead process can release nothing. Another pipeline (a new process) uses the wrapped store
 * directly or through a fresh wrapper.
 */
public final class FaultyStore implements IdempotencyStore {

  /** The store operations. */
  public enum Operation {
    ACQUIRE,
    COMPLETE,
    RELEASE,
    EXTEND,
    FIND
  }

  /** Where a simulated crash happens. */
  public enum CrashPoint {
    /** After the lease was granted, before the handler runs. */
    BEFORE_HANDLER,
    /** After the handler succeeded, before the outcome is recorded. */
    AFTER_HANDLER_BEFORE_RECORD,
    /** After the outcome is recorded, before the delivery is acked. */
    AFTER_RECORD_BEFORE_ACK
  }

  private final IdempotencyStore delegate;
  private final Map<Operation, AtomicInteger> failNext = new EnumMap<>(Operation.class);
  private final Map<Operation, AtomicLong> calls = new EnumMap<>(Operation.class);
  private volatile boolean outage;
  private volatile boolean dead;
  private volatile @Nullable CrashPoint crashPoint;
  private volatile Duration latency = Duration.ZERO;
  private volatile @Nullable Scheduler latencyScheduler;

  private FaultyStore(IdempotencyStore delegate) {
    this.delegate = Objects.requireNonNull(delegate, "delegate");
    for (Operation op : Operation.values()) {
      failNext.put(op, new AtomicInteger());
      calls.put(op, new AtomicLong());
    }
  }

  public static FaultyStore wrap(IdempotencyStore delegate) {
    return new FaultyStore(delegate);
  }

  /** The next {@code times} calls of {@code operation} fail with a {@link StoreException}. */
  public FaultyStore failNext(Operation operation, int times) {
    failNext.get(operation).set(times);
    return this;
  }

  /** Every operation fails while the outage lasts. */
  public FaultyStore outage(boolean down) {
    this.outage = down;
    return this;
  }

  /** Every operation answers after {@code latency}, timed on {@code scheduler}. */
  public FaultyStore latency(Duration latency, Scheduler scheduler) {
    this.latency = Objects.requireNonNull(latency, "latency");
    this.latencyScheduler = Objects.requireNonNull(scheduler, "scheduler");
    return this;
  }

  /** The next time {@code point} is reached, the process "dies" (see the class comment). */
  public FaultyStore crashAt(CrashPoint point) {
    this.crashPoint = Objects.requireNonNull(point, "point");
    return this;
  }

  /** Whether a crash point was reached. */
  public boolean crashed() {
    return dead;
  }

  /** How many times {@code operation} was called (failed calls included). */
  public long calls(Operation operation) {
    return calls.get(operation).get();
  }

  /** The wrapped store. */
  public IdempotencyStore delegate() {
    return delegate;
  }

  private <V> Mono<V> guard(Operation op, Supplier<Mono<V>> call) {
    return Mono.defer(
        () -> {
          calls.get(op).incrementAndGet();
          if (dead) {
            return Mono.error(new StoreException("simulated crash: this process is dead"));
          }
          if (outage) {
            return Mono.error(new StoreException("simulated outage: store unreachable"));
          }
          if (failNext.get(op).getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0) {
            return Mono.error(new StoreException("simulated failure of " + op));
          }
          Mono<V> result = call.get();
          Scheduler s = latencyScheduler;
          return latency.isZero() || s == null ? result : Mono.delay(latency, s).then(result);
        });
  }

  private boolean crashHere(CrashPoint point) {
    if (crashPoint == point) {
      crashPoint = null;
      dead = true;
      return true;
    }
    return false;
  }

  @Override
  public Mono<AcquireResult> acquire(AcquireRequest request) {
    return guard(Operation.ACQUIRE, () -> delegate.acquire(request))
        .flatMap(
            r ->
                r instanceof AcquireResult.Acquired && crashHere(CrashPoint.BEFORE_HANDLER)
                    ? Mono.never()
                    : Mono.just(r));
  }

  @Override
  public Mono<Boolean> complete(Lease lease, Completion completion) {
    return Mono.defer(
        () -> {
          if (crashHere(CrashPoint.AFTER_HANDLER_BEFORE_RECORD)) {
            return Mono.never();
          }
          return guard(Operation.COMPLETE, () -> delegate.complete(lease, completion))
              .flatMap(
                  ok ->
                      ok && crashHere(CrashPoint.AFTER_RECORD_BEFORE_ACK)
                          ? Mono.<Boolean>never()
                          : Mono.just(ok));
        });
  }

  @Override
  public Mono<Boolean> release(Lease lease) {
    return guard(Operation.RELEASE, () -> delegate.release(lease));
  }

  @Override
  public Mono<Boolean> extend(Lease lease, Duration ttl) {
    return guard(Operation.EXTEND, () -> delegate.extend(lease, ttl));
  }

  @Override
  public Mono<OutcomeRecord> find(String namespace, String key) {
    return guard(Operation.FIND, () -> delegate.find(namespace, key));
  }
}
