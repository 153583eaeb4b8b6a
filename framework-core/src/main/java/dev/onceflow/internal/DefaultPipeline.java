package dev.onceflow.internal;

import dev.onceflow.core.Delivery;
import dev.onceflow.core.Envelope;
import dev.onceflow.deadletter.DeadLetter;
import dev.onceflow.deadletter.DeadLetterReason;
import dev.onceflow.handler.Handled;
import dev.onceflow.handler.Message;
import dev.onceflow.outcome.Ledger;
import dev.onceflow.outcome.NackReason;
import dev.onceflow.outcome.Outcome;
import dev.onceflow.pipeline.Dedup;
import dev.onceflow.pipeline.Pipeline;
import dev.onceflow.pipeline.ResultCodec;
import dev.onceflow.store.AcquireRequest;
import dev.onceflow.store.AcquireResult;
import dev.onceflow.store.Completion;
import dev.onceflow.store.EffectRejectedException;
import dev.onceflow.store.Guard;
import dev.onceflow.store.IdempotencyStore;
import dev.onceflow.store.Lease;
import dev.onceflow.store.OutcomeRecord;
import dev.onceflow.store.StoreException;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SignalType;
import reactor.core.publisher.Sinks;

/**
 * The pipeline engine: decode → key → acquire → handle → complete → ack, with every branch of the
 * flow in DESIGN.md. One instance runs at most one subscription at a time.
 */
public final class DefaultPipeline<T, R> implements Pipeline<T, R> {

  private static final Logger log = LoggerFactory.getLogger(DefaultPipeline.class);

  /** How many times an IN_PROGRESS key is tried again in place before the delivery is nacked. */
  private static final int IN_PROGRESS_RETRIES = 3;

  private final PipelineConfig config;
  private final @Nullable Dedup dedup;
  private final @Nullable CircuitBreaker breaker;
  private final Metrics metrics;
  private final KeySerializer serializer = new KeySerializer();
  private final StoreGate storeGate;
  private final Set<InFlight> inFlight = ConcurrentHashMap.newKeySet();

  private final AtomicLong delivered = new AtomicLong();
  private final AtomicLong processed = new AtomicLong();
  private final AtomicLong duplicates = new AtomicLong();
  private final AtomicLong deadLettered = new AtomicLong();
  private final AtomicLong nacked = new AtomicLong();

  private final AtomicBoolean running = new AtomicBoolean();
  private volatile @Nullable Run run;

  /** The state of one subscription. */
  private static final class Run {
    final DemandGate<Delivery> gate;
    volatile @Nullable Disposable heartbeat;
    final Sinks.Empty<Void> kill = Sinks.empty();
    final Sinks.Empty<Void> drained = Sinks.empty();
    final Sinks.Empty<Void> terminated = Sinks.empty();
    volatile boolean stopping;

    Run(DemandGate<Delivery> gate) {
      this.gate = gate;
    }
  }

  /** One delivery in flight: its lease (once acquired) and whether it was counted. */
  private static final class InFlight {
    final Delivery delivery;
    final AtomicReference<@Nullable Lease> lease = new AtomicReference<>();
    final AtomicBoolean finished = new AtomicBoolean();

    /** Emits when a heartbeat learned that the lease was lost: the handler is cancelled. */
    final Sinks.One<Boolean> lost = Sinks.one();

    volatile @Nullable String key;

    /** Whether the handler runs under the lease, so that the heartbeat extends it. */
    volatile boolean beating;

    /** When the lease is due for extension, in scheduler milliseconds. */
    volatile long nextBeatAt;

    /** The outcome whose ack or nack was sent; settlement runs to its end even on cancel. */
    volatile @Nullable Outcome<?> settling;

    InFlight(Delivery delivery) {
      this.delivery = delivery;
    }
  }

  public DefaultPipeline(PipelineConfig config) {
    this.config = Objects.requireNonNull(config, "config");
    this.dedup = config.dedup();
    this.breaker = config.circuitBreaker();
    this.storeGate = new StoreGate(config.scheduler(), config.storeRetry(), config.storeRetryMax());
    this.metrics =
        Metrics.create(config.meterRegistry(), config.name(), this::inFlightCount, breaker);
  }

  @Override
  public String name() {
    return config.name();
  }

  @Override
  public boolean running() {
    return running.get();
  }

  private final Sinks.Many<Outcome<R>> observed = Sinks.many().multicast().directBestEffort();

  @Override
  public Flux<Outcome<R>> observe() {
    return observed
        .asFlux()
        .onBackpressureBuffer(
            256, o -> {}, reactor.core.publisher.BufferOverflowStrategy.DROP_OLDEST);
  }

  @Override
  public dev.onceflow.outcome.PipelineState state() {
    dev.onceflow.outcome.PipelineState.Status st;
    Run r = run;
    if (!running.get() || r == null) {
      st = dev.onceflow.outcome.PipelineState.Status.STOPPED;
    } else if (r.stopping) {
      st = dev.onceflow.outcome.PipelineState.Status.STOPPING;
    } else if (storeGate.paused()) {
      st = dev.onceflow.outcome.PipelineState.Status.PAUSED_STORE_UNAVAILABLE;
    } else if (breakerTripped()) {
      st = dev.onceflow.outcome.PipelineState.Status.PAUSED_BREAKER_OPEN;
    } else {
      st = dev.onceflow.outcome.PipelineState.Status.RUNNING;
    }
    return new dev.onceflow.outcome.PipelineState(st, config.clock().instant(), null, null);
  }

  private long inFlightCount() {
    return delivered.get() - processed.get() - duplicates.get() - deadLettered.get() - nacked.get();
  }

  @Override
  public Ledger ledger() {
    // Read the outcome counters before `delivered`, so that a concurrent delivery can only make
    // in-flight look larger, never negative.
    long p = processed.get();
    long du = duplicates.get();
    long dl = deadLettered.get();
    long n = nacked.get();
    long d = delivered.get();
    return new Ledger(d, p, du, dl, n, d - p - du - dl - n);
  }

  @Override
  public Disposable start() {
    return outcomes()
        .subscribe(
            o -> {}, e -> log.error("pipeline '{}' stopped with an error", config.name(), e));
  }

  @Override
  public Flux<Outcome<R>> outcomes() {
    return Flux.defer(
        () -> {
          if (!running.compareAndSet(false, true)) {
            return Flux.error(
                new IllegalStateException(
                    "pipeline '" + config.name() + "' is already running; stop it first"));
          }
          // subscribeOn: a source that emits on the thread that subscribes or requests must not
          // run on the subscriber's thread (start() returns at once).
          Run r =
              new Run(new DemandGate<>(config.source().receive().subscribeOn(config.scheduler())));
          run = r;
          log.info(
              "pipeline '{}' starting on {} (concurrency {}, dedup {})",
              config.name(),
              config.source().name(),
              config.concurrency(),
              dedup == null ? "off" : dedup.strategy());
          if (dedup != null) {
            r.heartbeat = heartbeat();
          }
          return r.gate
              .flux()
              .flatMap(d -> process(d, r), config.concurrency(), 1)
              // After the source is cancelled or failed (doFinally runs once the signal went
              // through), so that nothing new arrives while the unfinished are released. On
              // completion nothing is unfinished: flatMap completes after its inners.
              .doFinally(
                  s -> {
                    if (s != SignalType.ON_COMPLETE) {
                      releaseUnfinished(r).subscribe();
                    }
                  })
              .takeUntilOther(r.kill.asMono())
              .doFinally(
                  s -> {
                    Disposable hb = r.heartbeat;
                    if (hb != null) {
                      hb.dispose();
                    }
                    running.set(false);
                    run = null;
                    if (inFlight.isEmpty()) {
                      r.terminated.tryEmitEmpty();
                    }
                    log.info("pipeline '{}' stopped ({}): {}", config.name(), s, ledger());
                  });
        });
  }

  @Override
  public Mono<Void> stop(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    return Mono.defer(
        () -> {
          Run r = run;
          if (r == null) {
            return Mono.empty();
          }
          r.stopping = true;
          r.gate.close();
          if (inFlight.isEmpty()) {
            r.drained.tryEmitEmpty();
          }
          return r.drained
              .asMono()
              .timeout(timeout, Mono.empty(), config.scheduler())
              .then(Mono.fromRunnable(r.kill::tryEmitEmpty))
              .then(r.terminated.asMono());
        });
  }

  /** Nacks and releases what is still in flight after the subscription was cancelled or failed. */
  private Mono<Void> releaseUnfinished(Run r) {
    return Flux.fromIterable(List.copyOf(inFlight))
        .flatMap(
            f -> {
              Outcome<?> settling = f.settling;
              if (settling != null) {
                // Its ack or nack is already under way (settlement is not cancelled with the
                // pipeline): count it as what it is settling into.
                count(f, cast(settling));
                inFlight.remove(f);
                return Mono.empty();
              }
              if (!f.finished.compareAndSet(false, true)) {
                return Mono.empty();
              }
              nacked.incrementAndGet();
              metrics.outcome("nacked", NackReason.STOPPED.name());
              Lease lease = f.lease.get();
              Mono<Boolean> release =
                  lease == null
                      ? Mono.just(true)
                      : dedupStore().release(lease).onErrorReturn(false);
              return release
                  .then(f.delivery.nack(Duration.ZERO).onErrorResume(e -> Mono.empty()))
                  .doFinally(s -> inFlight.remove(f));
            },
            64)
        .then()
        .doFinally(s -> r.terminated.tryEmitEmpty());
  }

  // ---------------------------------------------------------------------------------------------
  // One delivery

  private Mono<Outcome<R>> process(Delivery d, Run r) {
    return Mono.defer(
        () -> {
          delivered.incrementAndGet();
          InFlight f = new InFlight(d);
          inFlight.add(f);
          Mono<Outcome<R>> work =
              r.stopping
                  ? Mono.defer(() -> nack(f, NackReason.STOPPED, null, Duration.ZERO))
                  : Mono.defer(() -> handleDelivery(f));
          String orderKey = config.orderedByKey() ? orderingKey(d.envelope()) : null;
          if (orderKey != null) {
            work = serializer.serialize(orderKey, work);
          }
          return work.doOnNext(o -> count(f, o))
              .doOnNext(observed::tryEmitNext)
              .doFinally(
                  s -> {
                    if (f.finished.get()) {
                      inFlight.remove(f);
                    }
                    if (r.stopping && inFlight.isEmpty()) {
                      r.drained.tryEmitEmpty();
                    }
                  });
        });
  }

  private @Nullable String orderingKey(Envelope e) {
    if (e.entityKey() != null) {
      return e.entityKey();
    }
    if (dedup != null && dedup.strategy() == Dedup.Strategy.PRODUCER_SEQUENCE) {
      return e.producerId();
    }
    return e.messageId();
  }

  private void count(InFlight f, Outcome<R> o) {
    if (!f.finished.compareAndSet(false, true)) {
      return;
    }
    if (o instanceof Outcome.Processed) {
      processed.incrementAndGet();
      metrics.outcome("processed", "none");
    } else if (o instanceof Outcome.Duplicate) {
      duplicates.incrementAndGet();
      metrics.outcome("duplicate", "none");
    } else if (o instanceof Outcome.DeadLettered<R> dl) {
      deadLettered.incrementAndGet();
      metrics.outcome("dead_lettered", dl.deadLetter().reason().name());
    } else if (o instanceof Outcome.Nacked<R> n) {
      nacked.incrementAndGet();
      metrics.outcome("nacked", n.reason().name());
    }
  }

  private IdempotencyStore dedupStore() {
    return Objects.requireNonNull(dedup, "dedup").store();
  }

  private Mono<Outcome<R>> handleDelivery(InFlight f) {
    Envelope e = f.delivery.envelope();
    Instant now = config.clock().instant();
    String malformation = e.malformation();
    if (malformation != null) {
      return deadLetterWithoutLease(
          f, DeadLetterReason.DECODE_FAILED, "MalformedHeaders", malformation, null, now);
    }
    KeyAndGuard kg = keyOf(e);
    if (kg == null) {
      return deadLetterWithoutLease(
          f,
          DeadLetterReason.MISSING_ID,
          null,
          "the message has no " + missingWhat() + " and the pipeline does not derive one",
          null,
          now);
    }
    f.key = kg.key;
    Object payload;
    try {
      payload = Objects.requireNonNull(config.decoder().decode(e), "decoder returned null");
    } catch (Exception | Error ex) {
      if (ex instanceof Error err && !(ex instanceof AssertionError)) {
        throw err;
      }
      return deadLetterWithoutLease(
          f,
          DeadLetterReason.DECODE_FAILED,
          ex.getClass().getName(),
          String.valueOf(ex.getMessage()),
          kg.key,
          now);
    }
    if (dedup == null) {
      Message<Object> m = new Message<>(payload, e, kg.key, 0, 1);
      return runHandler(m)
          .flatMap(
              result ->
                  result.failure == null
                      ? ack(
                          f,
                          new Outcome.Processed<>(
                              e, kg.key, 0, cast(result.value), result.attempts))
                      : deadLetter(f, null, kg.key, result));
    }
    return acquire(f, kg, payload, 0);
  }

  private String missingWhat() {
    if (dedup == null) {
      return "id";
    }
    return switch (dedup.strategy()) {
      case ENTITY_VERSION -> "entity key or version";
      case PRODUCER_SEQUENCE -> "producer id or sequence";
      case CUSTOM_KEY -> "key";
      case MESSAGE_ID -> "message id";
    };
  }

  private record KeyAndGuard(String key, @Nullable Guard guard) {}

  private @Nullable KeyAndGuard keyOf(Envelope e) {
    if (dedup == null) {
      String id = e.messageId();
      if (id == null) {
        id = Digests.originId(e);
      }
      return new KeyAndGuard(id == null ? Digests.payloadId(e) : id, null);
    }
    switch (dedup.strategy()) {
      case ENTITY_VERSION -> {
        return e.entityKey() == null || e.version() == null
            ? null
            : new KeyAndGuard(
                "version:" + e.entityKey(), Guard.version(Objects.requireNonNull(e.version())));
      }
      case PRODUCER_SEQUENCE -> {
        return e.producerId() == null || e.sequence() == null
            ? null
            : new KeyAndGuard(
                "producer:" + e.producerId(), Guard.sequence(Objects.requireNonNull(e.sequence())));
      }
      default -> {
        String key;
        if (dedup.strategy() == Dedup.Strategy.CUSTOM_KEY) {
          key = Objects.requireNonNull(dedup.keyFunction()).apply(e);
        } else {
          key = e.messageId();
        }
        if (key == null || key.isBlank()) {
          key =
              switch (dedup.missingId()) {
                case DEAD_LETTER -> null;
                case DERIVE_FROM_PAYLOAD -> Digests.payloadId(e);
                case DERIVE_FROM_ORIGIN -> Digests.originId(e);
              };
        }
        return key == null ? null : new KeyAndGuard(key, null);
      }
    }
  }

  private Mono<Outcome<R>> acquire(
      InFlight f, KeyAndGuard kg, Object payload, int inProgressTries) {
    Dedup dd = Objects.requireNonNull(dedup);
    Envelope e = f.delivery.envelope();
    AcquireRequest req =
        new AcquireRequest(
            config.name(),
            kg.key,
            config.owner(),
            dd.lease(),
            dd.retention(),
            dd.fingerprint() ? Digests.fingerprint(e) : null,
            kg.guard,
            e.redrive());
    return breakerReady()
        .then(storeGate.await())
        .then(timed("acquire", Mono.defer(() -> dd.store().acquire(req))))
        .materialize()
        .flatMap(
            signal -> {
              if (signal.isOnError()) {
                Throwable err = Objects.requireNonNull(signal.getThrowable());
                storeGate.failure();
                log.warn(
                    "pipeline '{}': store failed on acquire of key '{}'; failing closed: {}",
                    config.name(),
                    kg.key,
                    err.toString());
                return nack(f, NackReason.STORE_UNAVAILABLE, err, Duration.ZERO);
              }
              storeGate.success();
              AcquireResult result = Objects.requireNonNull(signal.get());
              if (result instanceof AcquireResult.Acquired a) {
                f.lease.set(a.lease());
                return handleLeased(f, a.lease(), payload);
              }
              if (result instanceof AcquireResult.Completed c) {
                return ack(f, new Outcome.Duplicate<>(e, kg.key, cachedResult(c.record())));
              }
              if (result instanceof AcquireResult.InProgress) {
                if (inProgressTries < IN_PROGRESS_RETRIES) {
                  return Mono.delay(dd.inProgressBackoff(), config.scheduler())
                      .then(Mono.defer(() -> acquire(f, kg, payload, inProgressTries + 1)));
                }
                return nack(f, NackReason.IN_PROGRESS, null, dd.inProgressBackoff());
              }
              AcquireResult.Conflict c = (AcquireResult.Conflict) result;
              return deadLetterWithoutLease(
                  f,
                  DeadLetterReason.KEY_REUSED,
                  null,
                  "key '"
                      + kg.key
                      + "' already has a recorded outcome ("
                      + c.record().outcome()
                      + ") for another payload",
                  kg.key,
                  config.clock().instant());
            });
  }

  private @Nullable R cachedResult(OutcomeRecord record) {
    ResultCodec<?> codec = config.resultCodec();
    byte[] bytes = record.result();
    if (codec == null || bytes == null) {
      return null;
    }
    try {
      return cast(codec.decode(bytes));
    } catch (RuntimeException ex) {
      log.warn(
          "pipeline '{}': cached result could not be decoded: {}", config.name(), ex.toString());
      return null;
    }
  }

  private Mono<Outcome<R>> handleLeased(InFlight f, Lease lease, Object payload) {
    Envelope e = f.delivery.envelope();
    Message<Object> m = new Message<>(payload, e, lease.key(), lease.fence(), 1);
    Dedup dd = Objects.requireNonNull(dedup);
    return withHeartbeat(runHandler(m), f)
        .flatMap(
            result -> {
              if (result.failure != null) {
                return deadLetter(f, lease, lease.key(), result);
              }
              Handled<Object> h = Objects.requireNonNull(result.handled);
              byte[] bytes = encodeResult(h.result());
              Completion completion = Completion.processed(bytes, dd.retention(), h.effects());
              // ack and leaseLost never signal an error: what reaches onErrorResume is the
              // completion's.
              return timed("complete", Mono.defer(() -> dd.store().complete(lease, completion)))
                  .flatMap(
                      ok ->
                          ok
                              ? ack(
                                  f,
                                  new Outcome.Processed<>(
                                      e,
                                      lease.key(),
                                      lease.fence(),
                                      cast(h.result()),
                                      result.attempts))
                              : leaseLost(f, lease))
                  .onErrorResume(ex -> completionFailed(f, lease, ex, result.attempts));
            })
        .switchIfEmpty(Mono.defer(() -> leaseLost(f, lease)));
  }

  private Mono<Outcome<R>> completionFailed(
      InFlight f, Lease lease, Throwable cause, int attempts) {
    if (cause instanceof EffectRejectedException rejected) {
      // A programming error: the effects can never be applied. Dead-letter, don't loop.
      Instant now = config.clock().instant();
      HandlerResult failed =
          HandlerResult.failed(rejected, DeadLetterReason.NON_RETRYABLE, attempts, now, now);
      return deadLetter(f, lease, lease.key(), failed);
    }
    storeGate.failure();
    log.warn(
        "pipeline '{}': store failed on complete of key '{}'; not acking: {}",
        config.name(),
        lease.key(),
        cause.toString());
    // Whether the record was written is unknown. Releasing is compare-and-set on the token, so it
    // is harmless if it was; if it was not, the redelivery need not wait for the lease to expire.
    return timed("release", Mono.defer(() -> dedupStore().release(lease)))
        .onErrorReturn(false)
        .then(nack(f, NackReason.STORE_UNAVAILABLE, cause, Duration.ZERO));
  }

  private byte @Nullable [] encodeResult(@Nullable Object result) {
    @SuppressWarnings("unchecked")
    ResultCodec<Object> codec = (ResultCodec<Object>) config.resultCodec();
    return codec == null || result == null ? null : codec.encode(result);
  }

  private Mono<Outcome<R>> leaseLost(InFlight f, Lease lease) {
    metrics.leaseLost();
    log.warn(
        "pipeline '{}': lease on key '{}' (fence {}) was lost; not acking, the broker redelivers",
        config.name(),
        lease.key(),
        lease.fence());
    return nack(f, NackReason.LEASE_LOST, null, Duration.ZERO);
  }

  private long beatEveryMillis() {
    Dedup dd = Objects.requireNonNull(dedup);
    return Math.max(1, (long) (dd.lease().toMillis() * config.heartbeatFraction()));
  }

  /**
   * Runs the handler under the lease; the pipeline's heartbeat extends the lease while it runs.
   * Empty when a heartbeat learned that the lease was lost (the handler is cancelled).
   */
  private Mono<HandlerResult> withHeartbeat(Mono<HandlerResult> work, InFlight f) {
    return Mono.defer(
        () -> {
          f.nextBeatAt = config.scheduler().now(TimeUnit.MILLISECONDS) + beatEveryMillis();
          f.beating = true;
          return work.takeUntilOther(f.lost.asMono()).doFinally(s -> f.beating = false);
        });
  }

  /**
   * One ticker per run extends the leases of handlers that outlived a fraction of their lease, so
   * that a message costs no timer of its own.
   */
  private Disposable heartbeat() {
    Dedup dd = Objects.requireNonNull(dedup);
    long every = beatEveryMillis();
    Duration tick = Duration.ofMillis(Math.max(1, every / 2));
    return Flux.interval(tick, tick, config.scheduler())
        .onBackpressureDrop()
        .concatMap(
            i -> {
              long now = config.scheduler().now(TimeUnit.MILLISECONDS);
              return Flux.fromIterable(inFlight)
                  .filter(f -> f.beating && now >= f.nextBeatAt && f.lease.get() != null)
                  .flatMap(
                      f ->
                          timed(
                                  "extend",
                                  Mono.defer(
                                      () ->
                                          dd.store()
                                              .extend(
                                                  Objects.requireNonNull(f.lease.get()),
                                                  dd.lease())))
                              .doOnNext(
                                  ok -> {
                                    if (ok) {
                                      f.nextBeatAt = now + every;
                                    } else {
                                      f.lost.tryEmitValue(true);
                                    }
                                  })
                              // A store error is not a loss: the next tick tries again, and
                              // complete tells the truth in the end.
                              .onErrorResume(e -> Mono.empty()),
                      32)
                  .then();
            },
            1)
        .subscribe(
            v -> {}, e -> log.error("pipeline '{}': lease heartbeat stopped", config.name(), e));
  }

  // ---------------------------------------------------------------------------------------------
  // Handler, retries, circuit breaker

  /** The handler's final result: success with its value, or the failure that ends it. */
  private static final class HandlerResult {
    final @Nullable Handled<Object> handled;
    final @Nullable Object value;
    final @Nullable Throwable failure;
    final @Nullable DeadLetterReason reason;
    final int attempts;
    final @Nullable Instant firstFailure;
    final @Nullable Instant lastFailure;

    private HandlerResult(
        @Nullable Handled<Object> handled,
        @Nullable Throwable failure,
        @Nullable DeadLetterReason reason,
        int attempts,
        @Nullable Instant firstFailure,
        @Nullable Instant lastFailure) {
      this.handled = handled;
      this.value = handled == null ? null : handled.result();
      this.failure = failure;
      this.reason = reason;
      this.attempts = attempts;
      this.firstFailure = firstFailure;
      this.lastFailure = lastFailure;
    }

    static HandlerResult ok(Handled<Object> handled, int attempts) {
      return new HandlerResult(handled, null, null, attempts, null, null);
    }

    static HandlerResult failed(
        Throwable t, DeadLetterReason reason, int attempts, Instant first, Instant last) {
      return new HandlerResult(null, t, reason, attempts, first, last);
    }
  }

  private Mono<HandlerResult> runHandler(Message<Object> m) {
    return attempt(m, 1, null);
  }

  private Mono<HandlerResult> attempt(Message<Object> base, int n, @Nullable Instant first) {
    Message<Object> m = new Message<>(base.payload(), base.envelope(), base.key(), base.fence(), n);
    return callOnce(m)
        .map(h -> HandlerResult.ok(h, n))
        .onErrorResume(
            err -> {
              if (err instanceof CallNotPermittedException) {
                // The breaker opened: wait for it without using up an attempt.
                return Mono.delay(config.breakerPoll(), config.scheduler())
                    .then(Mono.defer(() -> attempt(base, n, first)));
              }
              Instant now = config.clock().instant();
              Instant firstFailure = first == null ? now : first;
              if (config.retries().isRetryable(err) && breakerTripped()) {
                // The dependency is failing as a whole, not this message: wait for the breaker
                // without using up an attempt (outage is not poison).
                return Mono.delay(config.breakerPoll(), config.scheduler())
                    .then(Mono.defer(() -> attempt(base, n, firstFailure)));
              }
              if (!config.retries().isRetryable(err)) {
                return Mono.just(
                    HandlerResult.failed(
                        err, DeadLetterReason.NON_RETRYABLE, n, firstFailure, now));
              }
              if (n >= config.retries().maxAttempts()) {
                return Mono.just(
                    HandlerResult.failed(
                        err, DeadLetterReason.HANDLER_FAILED, n, firstFailure, now));
              }
              Duration backoff =
                  config.retries().backoff(n + 1, ThreadLocalRandom.current().nextDouble());
              return Mono.delay(backoff, config.scheduler())
                  .then(Mono.defer(() -> attempt(base, n + 1, firstFailure)));
            });
  }

  /** One handler call, under the circuit breaker when there is one. */
  private Mono<Handled<Object>> callOnce(Message<Object> m) {
    return Mono.defer(
        () -> {
          CircuitBreaker cb = breaker;
          if (cb != null && !cb.tryAcquirePermission()) {
            return Mono.error(CallNotPermittedException.createCallNotPermittedException(cb));
          }
          long start = System.nanoTime();
          Mono<Handled<Object>> call;
          try {
            call = Objects.requireNonNull(config.handler().apply(m), "handler returned null");
          } catch (RuntimeException ex) {
            call = Mono.error(ex);
          }
          AtomicBoolean done = new AtomicBoolean();
          return call.defaultIfEmpty(Handled.of(null))
              .doOnSuccess(
                  h -> {
                    done.set(true);
                    long nanos = System.nanoTime() - start;
                    metrics.handler(nanos, true);
                    if (cb != null) {
                      cb.onSuccess(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
                    }
                  })
              .doOnError(
                  ex -> {
                    done.set(true);
                    long nanos = System.nanoTime() - start;
                    metrics.handler(nanos, false);
                    if (cb != null) {
                      cb.onError(nanos, java.util.concurrent.TimeUnit.NANOSECONDS, ex);
                    }
                  })
              .doOnCancel(
                  () -> {
                    if (cb != null && !done.get()) {
                      cb.releasePermission();
                    }
                  });
        });
  }

  private boolean breakerTripped() {
    CircuitBreaker cb = breaker;
    if (cb == null) {
      return false;
    }
    CircuitBreaker.State st = cb.getState();
    return st == CircuitBreaker.State.OPEN
        || st == CircuitBreaker.State.FORCED_OPEN
        || st == CircuitBreaker.State.HALF_OPEN;
  }

  /** Completes when the breaker is not open, so that no lease is taken while it is. */
  private Mono<Void> breakerReady() {
    CircuitBreaker cb = breaker;
    if (cb == null) {
      return Mono.empty();
    }
    return Mono.defer(
        () -> {
          CircuitBreaker.State s = cb.getState();
          if (s == CircuitBreaker.State.OPEN || s == CircuitBreaker.State.FORCED_OPEN) {
            // tryAcquirePermission moves an OPEN breaker whose wait is over to HALF_OPEN; the
            // permission is given back at once, the real call takes its own.
            if (s == CircuitBreaker.State.OPEN && cb.tryAcquirePermission()) {
              cb.releasePermission();
              return Mono.empty();
            }
            return Mono.delay(config.breakerPoll(), config.scheduler()).then(breakerReady());
          }
          return Mono.empty();
        });
  }

  // ---------------------------------------------------------------------------------------------
  // Settlement

  private Mono<Outcome<R>> deadLetterWithoutLease(
      InFlight f,
      DeadLetterReason reason,
      @Nullable String exceptionClass,
      @Nullable String exceptionMessage,
      @Nullable String key,
      Instant at) {
    DeadLetter dl =
        new DeadLetter(
            f.delivery.envelope(),
            reason,
            exceptionClass,
            exceptionMessage,
            0,
            at,
            at,
            config.name(),
            key);
    return publishDeadLetter(f, dl, key)
        .flatMap(
            ok ->
                ok
                    ? ack(f, new Outcome.DeadLettered<>(f.delivery.envelope(), key, dl))
                    : nack(f, NackReason.DEAD_LETTER_FAILED, null, Duration.ZERO));
  }

  private Mono<Outcome<R>> deadLetter(
      InFlight f, @Nullable Lease lease, String key, HandlerResult result) {
    Throwable failure = Objects.requireNonNull(result.failure);
    Envelope e = f.delivery.envelope();
    DeadLetter dl =
        new DeadLetter(
            e,
            Objects.requireNonNull(result.reason),
            failure.getClass().getName(),
            failure.getMessage(),
            result.attempts,
            Objects.requireNonNull(result.firstFailure),
            Objects.requireNonNull(result.lastFailure),
            config.name(),
            key);
    return publishDeadLetter(f, dl, key)
        .flatMap(
            ok -> {
              if (!ok) {
                Mono<Boolean> release =
                    lease == null
                        ? Mono.just(true)
                        : timed("release", Mono.defer(() -> dedupStore().release(lease)))
                            .onErrorReturn(false);
                return release.then(nack(f, NackReason.DEAD_LETTER_FAILED, failure, Duration.ZERO));
              }
              if (lease == null) {
                return ack(f, new Outcome.DeadLettered<>(e, key, dl));
              }
              Dedup dd = Objects.requireNonNull(dedup);
              return timed(
                      "complete",
                      Mono.defer(
                          () ->
                              dd.store().complete(lease, Completion.deadLettered(dd.retention()))))
                  .flatMap(
                      done ->
                          done
                              ? ack(f, new Outcome.DeadLettered<>(e, key, dl))
                              : leaseLost(f, lease))
                  .onErrorResume(
                      ex -> {
                        storeGate.failure();
                        return nack(f, NackReason.STORE_UNAVAILABLE, ex, Duration.ZERO);
                      });
            });
  }

  private Mono<Boolean> publishDeadLetter(InFlight f, DeadLetter dl, @Nullable String key) {
    return Mono.defer(() -> config.deadLetterSink().publish(dl))
        .thenReturn(true)
        .onErrorResume(
            ex -> {
              log.warn(
                  "pipeline '{}': dead letter for key '{}' ({}) was not accepted; nacking: {}",
                  config.name(),
                  key,
                  dl.reason(),
                  ex.toString());
              return Mono.just(false);
            });
  }

  private Mono<Outcome<R>> ack(InFlight f, Outcome<R> outcome) {
    f.settling = outcome;
    return f.delivery
        .ack()
        .onErrorResume(
            ex -> {
              // The outcome is recorded; the broker will redeliver and dedup answers COMPLETED.
              log.warn(
                  "pipeline '{}': ack of {} failed after its outcome was recorded: {}",
                  config.name(),
                  f.delivery.envelope(),
                  ex.toString());
              return Mono.empty();
            })
        .thenReturn(outcome);
  }

  private Mono<Outcome<R>> nack(
      InFlight f, NackReason reason, @Nullable Throwable cause, Duration redeliverAfter) {
    Outcome<R> outcome = new Outcome.Nacked<>(f.delivery.envelope(), f.key, reason, cause);
    f.settling = outcome;
    return f.delivery
        .nack(redeliverAfter)
        .onErrorResume(
            ex -> {
              log.warn(
                  "pipeline '{}': nack of {} failed; the broker redelivers it when its "
                      + "consumer goes: {}",
                  config.name(),
                  f.delivery.envelope(),
                  ex.toString());
              return Mono.empty();
            })
        .thenReturn(outcome);
  }

  private <V> Mono<V> timed(String operation, Mono<V> call) {
    return Mono.defer(
        () -> {
          long start = System.nanoTime();
          return call.doOnSuccess(v -> metrics.store(operation, System.nanoTime() - start, true))
              .doOnError(ex -> metrics.store(operation, System.nanoTime() - start, false))
              .onErrorMap(
                  ex -> !(ex instanceof StoreException) && !(ex instanceof EffectRejectedException),
                  ex -> new StoreException("store " + operation + " failed: " + ex, ex));
        });
  }

  @SuppressWarnings("unchecked")
  private static <V> @Nullable V cast(@Nullable Object o) {
    return (V) o;
  }
}
