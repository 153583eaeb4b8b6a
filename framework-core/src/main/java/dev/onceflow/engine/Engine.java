package dev.onceflow.engine;

import dev.onceflow.outcome.Ledger;
import dev.onceflow.outcome.Outcome;
import dev.onceflow.outcome.PipelineState;
import dev.onceflow.outcome.PipelineState.Status;
import dev.onceflow.store.IdempotencyStore;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.BufferOverflowStrategy;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * A pipeline's lifecycle: at most one {@link Run} at a time, the ledger across runs, the state, the
 * outcome view. The public {@code Pipeline} delegates here.
 */
public final class Engine {
  private static final Logger log = LoggerFactory.getLogger(Engine.class);

  /** Outcomes buffered per {@link #observe()} subscriber before the oldest are dropped. */
  private static final int OBSERVE_BUFFER = 256;

  private final EngineConfig config;
  private final LedgerCounters ledger = new LedgerCounters();
  private final Metrics metrics;
  private final @Nullable IdempotencyStore store;
  private final SafeListener listener;
  private final Sinks.Many<Outcome<Object>> observed = Sinks.many().multicast().directBestEffort();
  private final Object observedLock = new Object();
  private final AtomicReference<@Nullable Run> current = new AtomicReference<>();
  private volatile PipelineState lastState;

  public Engine(EngineConfig config) {
    this.config = Objects.requireNonNull(config, "config");
    this.metrics = Metrics.create(config.meterRegistry(), config.name(), ledger, config.breaker());
    EngineConfig.DedupConfig dedup = config.dedup();
    // Without metrics the store is called as it is: its errors are told apart where they land
    // (an EffectRejectedException or anything else, which fails closed).
    this.store =
        dedup == null
            ? null
            : metrics == Metrics.NOOP ? dedup.store() : new MeteredStore(dedup.store(), metrics);
    this.listener = new SafeListener(config.listener(), config.name());
    this.lastState = new PipelineState(Status.STOPPED, config.clock().instant(), null, null);
  }

  public String name() {
    return config.name();
  }

  /** Runs the pipeline while subscribed; see {@code Pipeline.outcomes()}. */
  public Flux<Outcome<Object>> outcomes() {
    return Flux.usingWhen(
        Mono.fromCallable(this::begin),
        Run::flux,
        run -> close(run, null),
        (run, error) -> close(run, error),
        run -> close(run, null));
  }

  private Run begin() {
    Run run = new Run(config, store, ledger, metrics, listener, this::emit);
    if (!current.compareAndSet(null, run)) {
      throw new IllegalStateException(
          "pipeline '" + config.name() + "' is already running; stop it first");
    }
    EngineConfig.DedupConfig dedup = config.dedup();
    log.info(
        "pipeline '{}' starting on {} (concurrency {}, dedup {})",
        config.name(),
        config.source().name(),
        config.concurrency(),
        dedup == null ? "off" : dedup.strategy());
    return run;
  }

  private Mono<Void> close(Run run, @Nullable Throwable error) {
    return run.close(
        () -> {
          lastState =
              error == null
                  ? new PipelineState(Status.STOPPED, config.clock().instant(), null, null)
                  : new PipelineState(
                      Status.FAILED, config.clock().instant(), error.toString(), error);
          current.compareAndSet(run, null);
          log.info("pipeline '{}' stopped: {}", config.name(), ledger.ledger());
        });
  }

  /** Runs in the background; see {@code Pipeline.start()}. */
  public Disposable start() {
    if (current.get() != null) {
      throw new IllegalStateException(
          "pipeline '" + config.name() + "' is already running; stop it first");
    }
    return outcomes()
        .subscribe(
            o -> {}, e -> log.error("pipeline '{}' stopped with an error", config.name(), e));
  }

  /** Graceful stop; see {@code Pipeline.stop(Duration)}. */
  public Mono<Void> stop(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    return Mono.defer(
        () -> {
          Run run = current.get();
          if (run == null) {
            return Mono.empty();
          }
          return run.beginStop()
              .timeout(timeout, Mono.empty(), config.scheduler())
              .then(Mono.fromRunnable(run::kill))
              .then(run.terminated());
        });
  }

  public Flux<Outcome<Object>> observe() {
    return observed
        .asFlux()
        .onBackpressureBuffer(OBSERVE_BUFFER, o -> {}, BufferOverflowStrategy.DROP_OLDEST);
  }

  private void emit(Outcome<Object> outcome) {
    if (observed.currentSubscriberCount() > 0) {
      synchronized (observedLock) {
        observed.tryEmitNext(outcome);
      }
    }
  }

  public Ledger ledger() {
    return ledger.ledger();
  }

  public PipelineState state() {
    Run run = current.get();
    return run == null ? lastState : run.state();
  }
}
