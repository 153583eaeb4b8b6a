package dev.onceflow.pipeline;

import dev.onceflow.engine.Engine;
import dev.onceflow.outcome.Ledger;
import dev.onceflow.outcome.Outcome;
import dev.onceflow.outcome.PipelineState;
import java.time.Duration;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** The {@link Pipeline} the builder returns: a typed face of the engine. */
final class EnginePipeline<T, R> implements Pipeline<T, R> {
  private final Engine engine;

  EnginePipeline(Engine engine) {
    this.engine = engine;
  }

  @Override
  public String name() {
    return engine.name();
  }

  @Override
  @SuppressWarnings({"unchecked", "rawtypes"})
  public Flux<Outcome<R>> outcomes() {
    return (Flux) engine.outcomes();
  }

  @Override
  public Disposable start() {
    return engine.start();
  }

  @Override
  public Mono<Void> stop(Duration timeout) {
    return engine.stop(Retries.required(timeout, "timeout"));
  }

  @Override
  @SuppressWarnings({"unchecked", "rawtypes"})
  public Flux<Outcome<R>> observe() {
    return (Flux) engine.observe();
  }

  @Override
  public Ledger ledger() {
    return engine.ledger();
  }

  @Override
  public PipelineState state() {
    return engine.state();
  }

  @Override
  public boolean running() {
    return engine.state().active();
  }

  @Override
  public String toString() {
    return "Pipeline{" + engine.name() + ", " + engine.state() + "}";
  }
}
