package dev.onceflow.engine;

import dev.onceflow.outcome.Outcome;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Mono;

/** One delivery's way through the pipeline, as a {@code Mono} of its outcome: see {@link Lane}. */
final class DeliveryLane extends Mono<Outcome<Object>> {
  private final Run run;
  private final InFlight f;

  /** A lane for {@code f}, which the run admitted already. Subscribe at most once. */
  DeliveryLane(Run run, InFlight f) {
    this.run = run;
    this.f = f;
  }

  @Override
  public void subscribe(CoreSubscriber<? super Outcome<Object>> actual) {
    new Lane(run, f, actual).start();
  }
}
