package dev.onceflow.engine;

import dev.onceflow.core.Envelope;
import dev.onceflow.deadletter.DeadLetter;
import dev.onceflow.deadletter.DeadLetterReason;
import dev.onceflow.engine.EngineConfig.DedupConfig;
import dev.onceflow.engine.KeyResolver.Key;
import dev.onceflow.engine.KeyResolver.Reject;
import dev.onceflow.handler.Handled;
import dev.onceflow.handler.Message;
import dev.onceflow.outcome.NackReason;
import dev.onceflow.outcome.Outcome;
import dev.onceflow.store.AcquireRequest;
import dev.onceflow.store.AcquireResult;
import dev.onceflow.store.Completion;
import dev.onceflow.store.EffectRejectedException;
import dev.onceflow.store.IdempotencyStore;
import dev.onceflow.store.Lease;
import dev.onceflow.store.OutcomeRecord;
import dev.onceflow.store.RecordedOutcome;
import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Exceptions;
import reactor.core.publisher.Mono;

/**
 * The flow of one delivery up to its verdict: key, acquire, decode, handle, complete. With
 * deduplication off: key, decode, handle. Decoding happens under the lease, so that a message that
 * cannot be decoded is recorded DEAD_LETTERED like any other (its redeliveries are duplicates, and
 * a producer sequence advances past it).
 *
 * <p>{@link #run(InFlight)} composes the whole flow from Reactor operators: the path for anything
 * unusual (a paused store, an open breaker, a key in progress, retries). {@link DeliveryLane} runs
 * the common path with the same steps, which are the package-private methods here.
 */
final class LeaseFlow {
  private static final Logger log = LoggerFactory.getLogger(LeaseFlow.class);

  /** How many times an IN_PROGRESS key is asked again in place before the delivery is nacked. */
  private static final int IN_PROGRESS_RETRIES = 3;

  final EngineConfig config;
  final @Nullable DedupConfig dedup;
  final KeyResolver keys;
  final @Nullable IdempotencyStore store;
  final StoreGate storeGate;
  final BreakerGate breakerGate;
  final HandlerRunner runner;
  final @Nullable LeaseHeartbeat heartbeat;
  final Metrics metrics;
  final SafeListener listener;

  private final @Nullable LocalHolders holders;

  LeaseFlow(
      EngineConfig config,
      @Nullable IdempotencyStore store,
      StoreGate storeGate,
      BreakerGate breakerGate,
      HandlerRunner runner,
      @Nullable LeaseHeartbeat heartbeat,
      Metrics metrics,
      SafeListener listener) {
    this.config = config;
    this.dedup = config.dedup();
    this.keys = new KeyResolver(dedup);
    this.store = store;
    this.storeGate = storeGate;
    this.breakerGate = breakerGate;
    this.runner = runner;
    this.heartbeat = heartbeat;
    this.metrics = metrics;
    this.listener = listener;
    this.holders =
        dedup == null ? null : new LocalHolders(dedup.inProgressBackoff(), config.scheduler());
  }

  Mono<Verdict> run(InFlight f) {
    KeyResolver.Resolution r = keys.resolve(f.envelope());
    if (r instanceof Reject rej) {
      return Mono.just(rejected(f, rej));
    }
    Key k = (Key) r;
    f.key = k.key();
    if (dedup == null || store == null) {
      return handle(f, k.key(), 0);
    }
    return acquire(f, k, request(f, k), 0);
  }

  Verdict rejected(InFlight f, Reject rej) {
    return deadLetter(f, rej.reason(), rej.exceptionClass(), rej.message(), 0, null);
  }

  AcquireRequest request(InFlight f, Key k) {
    DedupConfig d = Objects.requireNonNull(dedup);
    return new AcquireRequest(
        config.name(),
        k.key(),
        config.owner(),
        d.lease(),
        d.retention(),
        k.fingerprint(),
        k.guard(),
        f.envelope().redrive());
  }

  /**
   * Acquires through the gates, asking an IN_PROGRESS key again in place; {@code asked} answers
   * were IN_PROGRESS already (the first wait comes first then).
   */
  Mono<Verdict> acquire(InFlight f, Key k, AcquireRequest req, int asked) {
    IdempotencyStore s = Objects.requireNonNull(store);
    int[] count = {asked};
    Mono<AcquireResult> ask =
        Mono.defer(() -> breakerGate.await().then(storeGate.await()).then(s.acquire(req)));
    LocalHolders here = Objects.requireNonNull(holders);
    if (asked > 0) {
      ask = here.beforeAskingAgain(k.key(), true).then(ask);
    }
    // The quick first look does not use up one of the IN_PROGRESS_RETRIES.
    int allowed = IN_PROGRESS_RETRIES + (here.quickFirstLook() ? 1 : 0);
    return ask.filter(res -> !(res instanceof AcquireResult.InProgress) || count[0]++ >= allowed)
        .repeatWhenEmpty(
            Integer.MAX_VALUE,
            waits -> waits.concatMap(i -> here.beforeAskingAgain(k.key(), i == 0 && asked == 0)))
        .flatMap(result -> answered(f, k, result))
        .onErrorResume(err -> Mono.just(acquireFailed(k, err)));
  }

  /** {@code f} left its lane: it holds no key any more for this run's other deliveries. */
  void over(InFlight f) {
    String key = f.heldKey;
    if (key != null && holders != null) {
      holders.released(key, f);
    }
    f.over();
  }

  Verdict acquireFailed(Key k, Throwable err) {
    storeGate.failure(err);
    log.warn(
        "pipeline '{}': store failed on acquire of key '{}'; failing closed: {}",
        config.name(),
        LogSafe.key(k.key()),
        err.toString());
    return Verdict.nack(NackReason.STORE_UNAVAILABLE, err);
  }

  private Mono<Verdict> answered(InFlight f, Key k, AcquireResult result) {
    storeGate.success();
    if (result instanceof AcquireResult.Acquired a) {
      Lease lease = acquired(f, a);
      return handle(f, lease.key(), lease.fence());
    }
    return Mono.just(notAcquired(f, k, result));
  }

  /** Takes the lease of {@code a}: {@code f} holds it from now on. */
  Lease acquired(InFlight f, AcquireResult.Acquired a) {
    Lease lease = a.lease();
    f.lease = lease;
    f.heldKey = lease.key();
    Objects.requireNonNull(holders).held(lease.key(), f);
    Envelope e = f.envelope();
    listener.acquired(e, lease.key(), lease.fence());
    if (a.skipped() > 0) {
      metrics.sequenceGaps(a.skipped());
      log.warn(
          "pipeline '{}': producer '{}' had a gap older than its gap timeout; gave up {}"
              + " sequence number(s) before {}",
          config.name(),
          LogSafe.key(e.producerId()),
          a.skipped(),
          e.sequence());
    }
    return lease;
  }

  /** The verdict of an answer that is not a grant: duplicate, in progress or conflict. */
  Verdict notAcquired(InFlight f, Key k, AcquireResult result) {
    Envelope e = f.envelope();
    if (result instanceof AcquireResult.Completed c) {
      return new Verdict.Ack(new Outcome.Duplicate<>(e, k.key(), cachedResult(c.record())));
    }
    if (result instanceof AcquireResult.InProgress) {
      return new Verdict.Nack(
          NackReason.IN_PROGRESS, null, Objects.requireNonNull(dedup).inProgressBackoff());
    }
    AcquireResult.Conflict c = (AcquireResult.Conflict) result;
    return deadLetter(
        f,
        DeadLetterReason.KEY_REUSED,
        null,
        "key '"
            + LogSafe.key(k.key())
            + "' already has a recorded outcome ("
            + c.record().outcome()
            + ") for another payload",
        0,
        null);
  }

  /** The decoded payload, or the {@link Verdict} of a message that cannot be decoded. */
  Object decode(InFlight f) {
    Envelope e = f.envelope();
    String malformation = e.malformation();
    if (malformation != null) {
      return deadLetter(
          f, DeadLetterReason.DECODE_FAILED, "MalformedHeaders", malformation, 0, null);
    }
    try {
      Object payload = config.decoder().decode(e);
      if (payload == null) {
        throw new IllegalStateException("the decoder returned null");
      }
      return payload;
    } catch (Throwable t) {
      Exceptions.throwIfJvmFatal(t);
      return deadLetter(
          f,
          DeadLetterReason.DECODE_FAILED,
          t.getClass().getName(),
          String.valueOf(t.getMessage()),
          0,
          null);
    }
  }

  private Mono<Verdict> handle(InFlight f, String key, long fence) {
    Object payload = decode(f);
    if (payload instanceof Verdict v) {
      return Mono.just(v);
    }
    Mono<HandlerRunner.Result> run =
        runner.run(new Message<>(payload, f.envelope(), key, fence, 1));
    if (heartbeat != null && f.lease != null) {
      run = heartbeat.guard(run, f);
    }
    return run.flatMap(res -> handled(f, key, fence, res))
        .switchIfEmpty(Mono.fromSupplier(() -> leaseLost(f, key, fence)));
  }

  /** After the handler's attempts: dead-letter, give the place up, or complete. */
  Mono<Verdict> handled(InFlight f, String key, long fence, HandlerRunner.Result res) {
    if (res.yielded()) {
      return Mono.just(
          new Verdict.Nack(NackReason.BREAKER_OPEN, res.failure(), breakerGate.openWait()));
    }
    if (res.failed()) {
      return Mono.just(deadLetter(f, res));
    }
    Object completion = completion(f, key, fence, res);
    if (completion instanceof Verdict v) {
      return Mono.just(v);
    }
    Lease lease = Objects.requireNonNull(f.lease);
    Outcome<Object> processed = processed(f, key, fence, res);
    return Objects.requireNonNull(store)
        .complete(lease, (Completion) completion)
        .map(done -> completed(f, key, fence, done, processed))
        .onErrorResume(ex -> Mono.just(completeFailed(f, key, ex, res.attempts())));
  }

  Outcome<Object> processed(InFlight f, String key, long fence, HandlerRunner.Result res) {
    Handled<Object> h = Objects.requireNonNull(res.handled());
    return new Outcome.Processed<>(f.envelope(), key, fence, h.result(), res.attempts());
  }

  /**
   * What to record after a success: a {@link Completion}, or the {@link Verdict} when there is
   * nothing to record (deduplication off: ack) or the result cannot be encoded (dead-letter).
   */
  Object completion(InFlight f, String key, long fence, HandlerRunner.Result res) {
    Handled<Object> h = Objects.requireNonNull(res.handled());
    if (dedup == null || store == null || f.lease == null) {
      return new Verdict.Ack(processed(f, key, fence, res));
    }
    byte[] bytes;
    try {
      EngineConfig.ResultCoding codec = config.resultCodec();
      bytes = codec == null || h.result() == null ? null : codec.encode(h.result());
    } catch (Throwable t) {
      Exceptions.throwIfJvmFatal(t);
      return deadLetter(f, failed(t, res.attempts()));
    }
    return Completion.processed(bytes, dedup.retention(), h.effects());
  }

  /** The store answered the completion: recorded (ack), or the lease was lost. */
  Verdict completed(InFlight f, String key, long fence, boolean done, Outcome<Object> processed) {
    if (!done) {
      return leaseLost(f, key, fence);
    }
    f.lease = null;
    storeGate.success();
    listener.recorded(f.envelope(), key, fence, RecordedOutcome.PROCESSED);
    return new Verdict.Ack(processed);
  }

  Verdict completeFailed(InFlight f, String key, Throwable ex, int attempts) {
    if (ex instanceof EffectRejectedException rejected) {
      // A programming error: the effects can never be applied. Dead-letter, no loop.
      return deadLetter(f, failed(rejected, attempts));
    }
    storeGate.failure(ex);
    log.warn(
        "pipeline '{}': store failed on complete of key '{}'; not acking: {}",
        config.name(),
        LogSafe.key(key),
        ex.toString());
    return Verdict.nack(NackReason.STORE_UNAVAILABLE, ex);
  }

  /** The lease was taken over (the heartbeat or the completion learned it): not ours to ack. */
  Verdict leaseLost(InFlight f, String key, long fence) {
    f.lease = null;
    metrics.leaseLost();
    log.warn(
        "pipeline '{}': lease on key '{}' (fence {}) was lost; not acking, the broker redelivers",
        config.name(),
        LogSafe.key(key),
        fence);
    return Verdict.nack(NackReason.LEASE_LOST, null);
  }

  private HandlerRunner.Result failed(Throwable t, int attempts) {
    Instant now = config.clock().instant();
    return HandlerRunner.Result.failed(t, DeadLetterReason.NON_RETRYABLE, attempts, now, now);
  }

  private @Nullable Object cachedResult(OutcomeRecord record) {
    EngineConfig.ResultCoding codec = config.resultCodec();
    byte[] bytes = record.result();
    if (codec == null || bytes == null) {
      return null;
    }
    try {
      return codec.decode(bytes);
    } catch (Throwable t) {
      Exceptions.throwIfJvmFatal(t);
      log.warn(
          "pipeline '{}': cached result could not be decoded: {}", config.name(), t.toString());
      return null;
    }
  }

  private Verdict deadLetter(InFlight f, HandlerRunner.Result res) {
    Throwable failure = Objects.requireNonNull(res.failure());
    return deadLetter(
        f,
        Objects.requireNonNull(res.reason()),
        failure.getClass().getName(),
        failure.getMessage(),
        res.attempts(),
        res);
  }

  private Verdict deadLetter(
      InFlight f,
      DeadLetterReason reason,
      @Nullable String exceptionClass,
      @Nullable String message,
      int attempts,
      HandlerRunner.@Nullable Result res) {
    Instant now = config.clock().instant();
    Instant first = res != null && res.firstFailure() != null ? res.firstFailure() : now;
    Instant last = res != null && res.lastFailure() != null ? res.lastFailure() : now;
    return new Verdict.DeadLetterIt(
        new DeadLetter(
            f.envelope(),
            reason,
            exceptionClass,
            message,
            attempts,
            first,
            last,
            config.name(),
            f.key));
  }
}
