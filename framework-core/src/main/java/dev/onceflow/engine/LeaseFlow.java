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
import reactor.core.publisher.Signal;

/**
 * The flow of one delivery up to its verdict: key, acquire, decode, handle, complete. With
 * deduplication off: key, decode, handle. Decoding happens under the lease, so that a message that
 * cannot be decoded is recorded DEAD_LETTERED like any other (its redeliveries are duplicates, and
 * a producer sequence advances past it).
 */
final class LeaseFlow {
  private static final Logger log = LoggerFactory.getLogger(LeaseFlow.class);

  /** How many times an IN_PROGRESS key is asked again in place before the delivery is nacked. */
  private static final int IN_PROGRESS_RETRIES = 3;

  private final EngineConfig config;
  private final @Nullable DedupConfig dedup;
  private final KeyResolver keys;
  private final @Nullable IdempotencyStore store;
  private final StoreGate storeGate;
  private final BreakerGate breakerGate;
  private final HandlerRunner runner;
  private final @Nullable LeaseHeartbeat heartbeat;
  private final Metrics metrics;
  private final SafeListener listener;

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
  }

  Mono<Verdict> run(InFlight f) {
    KeyResolver.Resolution r = keys.resolve(f.envelope());
    if (r instanceof Reject rej) {
      return Mono.just(deadLetter(f, rej.reason(), rej.exceptionClass(), rej.message(), 0, null));
    }
    Key k = (Key) r;
    f.key = k.key();
    if (dedup == null || store == null) {
      return handle(f, k.key(), 0);
    }
    return acquire(f, k, dedup, store);
  }

  private Mono<Verdict> acquire(InFlight f, Key k, DedupConfig d, IdempotencyStore s) {
    Envelope e = f.envelope();
    AcquireRequest req =
        new AcquireRequest(
            config.name(),
            k.key(),
            config.owner(),
            d.lease(),
            d.retention(),
            k.fingerprint(),
            k.guard(),
            e.redrive());
    int[] asked = {0};
    Mono<AcquireResult> answer =
        Mono.defer(() -> breakerGate.await().then(storeGate.await()).then(s.acquire(req)))
            .filter(
                res ->
                    !(res instanceof AcquireResult.InProgress) || asked[0]++ >= IN_PROGRESS_RETRIES)
            .repeatWhenEmpty(
                Integer.MAX_VALUE,
                waits ->
                    waits.concatMap(i -> Mono.delay(d.inProgressBackoff(), config.scheduler())));
    return answer.materialize().flatMap(signal -> answered(f, k, d, signal));
  }

  private Mono<Verdict> answered(InFlight f, Key k, DedupConfig d, Signal<AcquireResult> signal) {
    Envelope e = f.envelope();
    if (signal.isOnError()) {
      Throwable err = Objects.requireNonNull(signal.getThrowable());
      storeGate.failure(err);
      log.warn(
          "pipeline '{}': store failed on acquire of key '{}'; failing closed: {}",
          config.name(),
          LogSafe.key(k.key()),
          err.toString());
      return Mono.just(Verdict.nack(NackReason.STORE_UNAVAILABLE, err));
    }
    storeGate.success();
    AcquireResult result = Objects.requireNonNull(signal.get());
    if (result instanceof AcquireResult.Acquired a) {
      Lease lease = a.lease();
      f.lease = lease;
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
      return handle(f, lease.key(), lease.fence());
    }
    if (result instanceof AcquireResult.Completed c) {
      return Mono.just(
          new Verdict.Ack(new Outcome.Duplicate<>(e, k.key(), cachedResult(c.record()))));
    }
    if (result instanceof AcquireResult.InProgress) {
      return Mono.just(new Verdict.Nack(NackReason.IN_PROGRESS, null, d.inProgressBackoff()));
    }
    AcquireResult.Conflict c = (AcquireResult.Conflict) result;
    return Mono.just(
        deadLetter(
            f,
            DeadLetterReason.KEY_REUSED,
            null,
            "key '"
                + LogSafe.key(k.key())
                + "' already has a recorded outcome ("
                + c.record().outcome()
                + ") for another payload",
            0,
            null));
  }

  private Mono<Verdict> handle(InFlight f, String key, long fence) {
    Envelope e = f.envelope();
    String malformation = e.malformation();
    if (malformation != null) {
      return Mono.just(
          deadLetter(f, DeadLetterReason.DECODE_FAILED, "MalformedHeaders", malformation, 0, null));
    }
    Object payload;
    try {
      payload = config.decoder().decode(e);
      if (payload == null) {
        throw new IllegalStateException("the decoder returned null");
      }
    } catch (Throwable t) {
      Exceptions.throwIfJvmFatal(t);
      return Mono.just(
          deadLetter(
              f,
              DeadLetterReason.DECODE_FAILED,
              t.getClass().getName(),
              String.valueOf(t.getMessage()),
              0,
              null));
    }
    Mono<HandlerRunner.Result> run = runner.run(new Message<>(payload, e, key, fence, 1));
    if (heartbeat != null && f.lease != null) {
      run = heartbeat.guard(run, f);
    }
    return run.flatMap(
            res -> {
              if (res.yielded()) {
                return Mono.just(
                    new Verdict.Nack(
                        NackReason.BREAKER_OPEN, res.failure(), breakerGate.openWait()));
              }
              return res.failed() ? Mono.just(deadLetter(f, res)) : complete(f, key, fence, res);
            })
        .switchIfEmpty(Mono.fromSupplier(() -> leaseLost(f, key, fence)));
  }

  private Mono<Verdict> complete(InFlight f, String key, long fence, HandlerRunner.Result res) {
    Handled<Object> h = Objects.requireNonNull(res.handled());
    Outcome<Object> processed =
        new Outcome.Processed<>(f.envelope(), key, fence, h.result(), res.attempts());
    Lease lease = f.lease;
    if (dedup == null || store == null || lease == null) {
      return Mono.just(new Verdict.Ack(processed));
    }
    byte[] bytes;
    try {
      EngineConfig.ResultCoding codec = config.resultCodec();
      bytes = codec == null || h.result() == null ? null : codec.encode(h.result());
    } catch (Throwable t) {
      Exceptions.throwIfJvmFatal(t);
      return Mono.just(deadLetter(f, failed(t, res.attempts())));
    }
    Completion completion = Completion.processed(bytes, dedup.retention(), h.effects());
    return store
        .complete(lease, completion)
        .map(
            done -> {
              if (!done) {
                return leaseLost(f, key, fence);
              }
              f.lease = null;
              storeGate.success();
              listener.recorded(f.envelope(), key, fence, RecordedOutcome.PROCESSED);
              return (Verdict) new Verdict.Ack(processed);
            })
        .onErrorResume(
            ex -> {
              if (ex instanceof EffectRejectedException rejected) {
                // A programming error: the effects can never be applied. Dead-letter, no loop.
                return Mono.just(deadLetter(f, failed(rejected, res.attempts())));
              }
              storeGate.failure(ex);
              log.warn(
                  "pipeline '{}': store failed on complete of key '{}'; not acking: {}",
                  config.name(),
                  LogSafe.key(key),
                  ex.toString());
              return Mono.just(Verdict.nack(NackReason.STORE_UNAVAILABLE, ex));
            });
  }

  /** The lease was taken over (the heartbeat or the completion learned it): not ours to ack. */
  private Verdict leaseLost(InFlight f, String key, long fence) {
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
