package dev.onceflow.engine;

import dev.onceflow.core.Envelope;
import dev.onceflow.deadletter.DeadLetter;
import dev.onceflow.deadletter.DeadLetterSink;
import dev.onceflow.outcome.NackReason;
import dev.onceflow.outcome.Outcome;
import dev.onceflow.store.Completion;
import dev.onceflow.store.IdempotencyStore;
import dev.onceflow.store.Lease;
import dev.onceflow.store.RecordedOutcome;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Exceptions;
import reactor.core.publisher.Mono;

/**
 * The one place that carries out {@link Verdict}s: it acks, nacks, releases leases and
 * dead-letters, and counts each delivery once. Every method's {@code Mono} completes with the
 * outcome and never errors. Acks and nacks run to their end even when the pipeline is cancelled
 * ({@link dev.onceflow.core.Delivery}'s guarantee); {@link InFlight#settling} tells the run's
 * cleanup what they settle into.
 */
final class Settlement {
  private static final Logger log = LoggerFactory.getLogger(Settlement.class);

  private final String pipeline;
  private final DeadLetterSink sink;
  private final @Nullable IdempotencyStore store;
  private final Duration retention;
  private final StoreGate storeGate;
  private final LedgerCounters ledger;
  private final Metrics metrics;
  private final SafeListener listener;
  private final Consumer<Outcome<Object>> observer;

  Settlement(
      EngineConfig config,
      @Nullable IdempotencyStore store,
      StoreGate storeGate,
      LedgerCounters ledger,
      Metrics metrics,
      SafeListener listener,
      Consumer<Outcome<Object>> observer) {
    this.pipeline = config.name();
    this.sink = config.deadLetters();
    this.store = store;
    this.retention = config.dedup() == null ? Duration.ofDays(1) : config.dedup().retention();
    this.storeGate = storeGate;
    this.ledger = ledger;
    this.metrics = metrics;
    this.listener = listener;
    this.observer = observer;
  }

  Mono<Outcome<Object>> settle(InFlight f, Verdict v) {
    if (v instanceof Verdict.Ack a) {
      return ack(f, a.outcome());
    }
    if (v instanceof Verdict.Nack n) {
      return releaseHeld(f).then(nack(f, n.reason(), n.cause(), n.delay()));
    }
    return deadLetter(f, ((Verdict.DeadLetterIt) v).deadLetter());
  }

  private Mono<Outcome<Object>> deadLetter(InFlight f, DeadLetter dl) {
    Envelope e = f.envelope();
    return publish(dl)
        .flatMap(
            ok -> {
              if (!ok) {
                return releaseHeld(f).then(nack(f, NackReason.DEAD_LETTER_FAILED, null));
              }
              listener.deadLettered(e, dl);
              Outcome<Object> out = new Outcome.DeadLettered<>(e, dl.dedupKey(), dl);
              Lease lease = f.lease;
              if (lease == null || store == null) {
                return ack(f, out);
              }
              return store
                  .complete(lease, Completion.deadLettered(retention))
                  .flatMap(
                      done -> {
                        f.lease = null;
                        if (!done) {
                          return leaseLost(f, lease);
                        }
                        storeGate.success();
                        listener.recorded(
                            e, lease.key(), lease.fence(), RecordedOutcome.DEAD_LETTERED);
                        return ack(f, out);
                      })
                  .onErrorResume(
                      ex -> {
                        storeGate.failure(ex);
                        log.warn(
                            "pipeline '{}': store failed recording the dead letter of key '{}';"
                                + " releasing and nacking: {}",
                            pipeline,
                            LogSafe.key(lease.key()),
                            ex.toString());
                        return releaseHeld(f).then(nack(f, NackReason.STORE_UNAVAILABLE, ex));
                      });
            });
  }

  /** Whether the sink accepted the dead letter; what it throws or signals is a refusal. */
  private Mono<Boolean> publish(DeadLetter dl) {
    return Mono.defer(
            () -> Objects.requireNonNull(sink.publish(dl), "the dead-letter sink returned null"))
        .thenReturn(true)
        .onErrorResume(
            ex -> {
              Exceptions.throwIfJvmFatal(ex);
              log.warn(
                  "pipeline '{}': dead letter for key '{}' ({}) was not accepted; nacking: {}",
                  pipeline,
                  LogSafe.key(dl.dedupKey()),
                  dl.reason(),
                  ex.toString());
              return Mono.just(false);
            });
  }

  private Mono<Outcome<Object>> leaseLost(InFlight f, Lease lease) {
    metrics.leaseLost();
    log.warn(
        "pipeline '{}': lease on key '{}' (fence {}) was lost; not acking, the broker redelivers",
        pipeline,
        LogSafe.key(lease.key()),
        lease.fence());
    return nack(f, NackReason.LEASE_LOST, null);
  }

  /** Releases the lease {@code f} still holds (compare-and-set; harmless if it was lost). */
  Mono<Void> releaseHeld(InFlight f) {
    Lease l = f.lease;
    if (l == null || store == null) {
      return Mono.empty();
    }
    f.lease = null;
    return store.release(l).onErrorReturn(false).then();
  }

  private Mono<Outcome<Object>> ack(InFlight f, Outcome<Object> outcome) {
    f.settling = outcome;
    return f.delivery
        .ack()
        .onErrorResume(
            ex -> {
              // The outcome is recorded; the broker will redeliver and dedup answers COMPLETED.
              log.warn(
                  "pipeline '{}': ack of key '{}' failed after its outcome was recorded: {}",
                  pipeline,
                  LogSafe.key(outcome.key()),
                  ex.toString());
              return Mono.empty();
            })
        .then(Mono.fromCallable(() -> finish(f, outcome)));
  }

  private Mono<Outcome<Object>> nack(InFlight f, NackReason reason, @Nullable Throwable cause) {
    return nack(f, reason, cause, Duration.ZERO);
  }

  private Mono<Outcome<Object>> nack(
      InFlight f, NackReason reason, @Nullable Throwable cause, Duration delay) {
    Outcome<Object> outcome = new Outcome.Nacked<>(f.envelope(), f.key, reason, cause);
    f.settling = outcome;
    return f.delivery
        .nack(delay)
        .onErrorResume(
            ex -> {
              log.warn(
                  "pipeline '{}': nack of key '{}' failed; the broker redelivers it when its "
                      + "consumer goes: {}",
                  pipeline,
                  LogSafe.key(f.key),
                  ex.toString());
              return Mono.empty();
            })
        .then(Mono.fromCallable(() -> finish(f, outcome)));
  }

  /** Counts {@code outcome} for {@code f} once, and reports it. */
  Outcome<Object> finish(InFlight f, Outcome<Object> outcome) {
    if (ledger.count(f, outcome)) {
      if (outcome instanceof Outcome.Processed) {
        metrics.outcome("processed", "none");
      } else if (outcome instanceof Outcome.Duplicate) {
        metrics.outcome("duplicate", "none");
      } else if (outcome instanceof Outcome.DeadLettered<Object> dl) {
        metrics.outcome("dead_lettered", dl.deadLetter().reason().name());
      } else if (outcome instanceof Outcome.Nacked<Object> n) {
        metrics.outcome("nacked", n.reason().name());
      }
      listener.settled(outcome);
      observer.accept(outcome);
    }
    return outcome;
  }
}
