package dev.onceflow.engine;

import dev.onceflow.core.Delivery;
import dev.onceflow.core.Envelope;
import dev.onceflow.outcome.NackReason;
import dev.onceflow.outcome.Outcome;
import dev.onceflow.outcome.PipelineState;
import dev.onceflow.outcome.PipelineState.Status;
import dev.onceflow.store.IdempotencyStore;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * One run of a pipeline: everything that lives as long as one subscription (the gates, the
 * heartbeat, the deliveries in flight), so that a new run starts clean.
 */
final class Run {
  private static final Logger log = LoggerFactory.getLogger(Run.class);

  private final EngineConfig config;
  private final LedgerCounters ledger;
  private final SafeListener listener;
  private final DemandGate<Delivery> gate;
  private final Set<InFlight> inFlight = ConcurrentHashMap.newKeySet();
  private final KeySerializer serializer = new KeySerializer();
  private final StoreGate storeGate;
  private final BreakerGate breakerGate;
  private final @Nullable LeaseHeartbeat heartbeat;
  private final LeaseFlow flow;
  private final Settlement settlement;

  private final Sinks.Empty<Void> kill = Sinks.empty();
  private final Sinks.Empty<Void> drained = Sinks.empty();
  private final Sinks.Empty<Void> ended = Sinks.empty();
  private final Sinks.Empty<Void> terminated = Sinks.empty();
  private final Instant startedAt;
  private volatile @Nullable Instant stoppingSince;

  Run(
      EngineConfig config,
      @Nullable IdempotencyStore store,
      LedgerCounters ledger,
      Metrics metrics,
      SafeListener listener,
      Consumer<Outcome<Object>> observer) {
    this.config = config;
    this.ledger = ledger;
    this.listener = listener;
    this.startedAt = config.clock().instant();
    // subscribeOn: a source that emits on the thread that subscribes or requests must not run on
    // the subscriber's thread (start() returns at once).
    this.gate = new DemandGate<>(config.source().receive().subscribeOn(config.scheduler()));
    this.storeGate = new StoreGate(config.scheduler(), config.storeRetry(), config.storeRetryMax());
    this.breakerGate =
        new BreakerGate(config.breaker(), config.breakerPoll(), config.scheduler(), ended.asMono());
    EngineConfig.DedupConfig dedup = config.dedup();
    this.heartbeat =
        dedup == null || store == null
            ? null
            : new LeaseHeartbeat(
                store, dedup.lease(), config.heartbeatFraction(), config.scheduler(), inFlight);
    HandlerRunner runner = new HandlerRunner(config, breakerGate, metrics, listener);
    this.flow =
        new LeaseFlow(config, store, storeGate, breakerGate, runner, heartbeat, metrics, listener);
    this.settlement = new Settlement(config, store, storeGate, ledger, metrics, listener, observer);
  }

  /** The run: checks the dead-letter destination, then processes deliveries until the end. */
  Flux<Outcome<Object>> flux() {
    Mono<Void> ready =
        Mono.defer(
                () ->
                    Objects.requireNonNull(
                        config.deadLetters().ready(), "the dead-letter sink's ready() was null"))
            .onErrorMap(
                e ->
                    new IllegalStateException(
                        "pipeline '"
                            + config.name()
                            + "': the dead-letter destination is not ready: "
                            + e.getMessage(),
                        e));
    Sinks.Empty<Void> workDone = Sinks.empty();
    Flux<Outcome<Object>> work =
        ready
            .thenMany(new LaneMerge<>(gate, this::process, config.concurrency()))
            .doFinally(s -> workDone.tryEmitEmpty());
    Flux<Outcome<Object>> beats =
        heartbeat == null
            ? Flux.empty()
            : heartbeat.run().takeUntilOther(workDone.asMono()).thenMany(Flux.empty());
    return Flux.merge(work, beats).takeUntilOther(kill.asMono());
  }

  private Mono<Outcome<Object>> process(Delivery d) {
    InFlight f = new InFlight(d);
    ledger.delivered();
    listener.delivered(d.envelope());
    inFlight.add(f);
    Mono<Outcome<Object>> work = new DeliveryLane(this, f);
    String orderKey = config.orderedByKey() ? orderingKey(d.envelope()) : null;
    return orderKey == null ? work : serializer.serialize(orderKey, work);
  }

  LeaseFlow flow() {
    return flow;
  }

  Settlement settlement() {
    return settlement;
  }

  boolean stopping() {
    return stoppingSince != null;
  }

  /** {@code f} left its lane: counted (settled), or cancelled (the run's end settles it). */
  void finished(InFlight f) {
    flow.over(f);
    if (f.counted.get()) {
      inFlight.remove(f);
    }
    if (stoppingSince != null && inFlight.isEmpty()) {
      drained.tryEmitEmpty();
    }
  }

  private @Nullable String orderingKey(Envelope e) {
    if (e.entityKey() != null) {
      return e.entityKey();
    }
    EngineConfig.DedupConfig dedup = config.dedup();
    if (dedup != null && dedup.strategy() == EngineConfig.Strategy.PRODUCER_SEQUENCE) {
      return e.producerId();
    }
    return e.messageId();
  }

  /** Stops pulling; completes once in-flight deliveries drained. */
  Mono<Void> beginStop() {
    if (stoppingSince == null) {
      stoppingSince = config.clock().instant();
    }
    gate.close();
    if (inFlight.isEmpty()) {
      drained.tryEmitEmpty();
    }
    return drained.asMono();
  }

  /** Ends the run now: what is still in flight is cancelled, released and nacked. */
  void kill() {
    kill.tryEmitEmpty();
  }

  Mono<Void> terminated() {
    return terminated.asMono();
  }

  /**
   * Settles what is still in flight after the run completed, failed or was cancelled (the source is
   * cancelled by then, so nothing new arrives): a delivery whose ack or nack is under way counts as
   * what it settles into; the others are released and nacked.
   */
  Mono<Void> close(Runnable onClosed) {
    ended.tryEmitEmpty();
    return Flux.fromIterable(List.copyOf(inFlight))
        .<Void>flatMap(
            f -> {
              Outcome<Object> settling = f.settling;
              if (settling != null || f.counted.get()) {
                if (settling != null) {
                  settlement.finish(f, settling);
                }
                inFlight.remove(f);
                return Mono.empty();
              }
              return settlement
                  .settle(f, Verdict.nack(NackReason.STOPPED, null))
                  .onErrorResume(e -> Mono.empty())
                  .doFinally(s -> inFlight.remove(f))
                  .then();
            },
            64)
        .then(Mono.<Void>fromRunnable(onClosed))
        .doFinally(s -> terminated.tryEmitEmpty());
  }

  PipelineState state() {
    Instant stopping = stoppingSince;
    if (stopping != null) {
      return new PipelineState(Status.STOPPING, stopping, null, null);
    }
    if (storeGate.paused()) {
      Throwable cause = storeGate.lastError();
      Instant since = storeGate.pausedSince();
      return new PipelineState(
          Status.PAUSED_STORE_UNAVAILABLE,
          since == null ? config.clock().instant() : since,
          cause == null ? "the idempotency store does not answer" : cause.toString(),
          cause);
    }
    if (breakerGate.tripped()) {
      Instant since = breakerGate.openSince();
      return new PipelineState(
          Status.PAUSED_BREAKER_OPEN,
          since == null ? config.clock().instant() : since,
          breakerGate.describe(),
          null);
    }
    Instant since = startedAt;
    for (Instant resumed : new Instant[] {storeGate.resumedAt(), breakerGate.closedAt()}) {
      if (resumed != null && resumed.isAfter(since)) {
        since = resumed;
      }
    }
    return new PipelineState(Status.RUNNING, since, null, null);
  }
}
