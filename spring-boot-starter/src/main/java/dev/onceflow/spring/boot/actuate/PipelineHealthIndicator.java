package dev.onceflow.spring.boot.actuate;

import dev.onceflow.outcome.Ledger;
import dev.onceflow.outcome.PipelineState;
import dev.onceflow.pipeline.Pipeline;
import java.util.Objects;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * The health of one pipeline, from its {@link PipelineState} (a snapshot: it never blocks):
 *
 * <ul>
 *   <li>UP while it runs, also while its circuit breaker is open (it pauses by design; the detail
 *       {@code breaker} says {@code open});
 *   <li>DOWN while the idempotency store does not answer (the store gate is shut: nothing is
 *       handled or acked), when its run failed, and when it is stopped though it should run;
 *   <li>OUT_OF_SERVICE while it stops.
 * </ul>
 *
 * Details: {@code state}, {@code since}, {@code detail}, {@code store} ({@code reachable} or {@code
 * unreachable}), {@code breaker} ({@code open} or {@code closed}) and the ledger counts.
 */
public final class PipelineHealthIndicator implements HealthIndicator {

  private final Pipeline<?, ?> pipeline;
  private final boolean shouldRun;

  /**
   * @param pipeline the pipeline
   * @param shouldRun whether it is meant to run (a stopped pipeline is DOWN then, UNKNOWN
   *     otherwise)
   */
  public PipelineHealthIndicator(Pipeline<?, ?> pipeline, boolean shouldRun) {
    this.pipeline = Objects.requireNonNull(pipeline, "pipeline");
    this.shouldRun = shouldRun;
  }

  @Override
  public Health health() {
    PipelineState state = pipeline.state();
    Health.Builder b =
        switch (state.status()) {
          case RUNNING, PAUSED_BREAKER_OPEN -> Health.up();
          case PAUSED_STORE_UNAVAILABLE, FAILED -> Health.down();
          case STOPPING -> Health.outOfService();
          case STOPPED -> shouldRun ? Health.down() : Health.unknown();
        };
    b.withDetail("state", state.status().name())
        .withDetail("since", state.since().toString())
        .withDetail(
            "store",
            state.status() == PipelineState.Status.PAUSED_STORE_UNAVAILABLE
                ? "unreachable"
                : "reachable")
        .withDetail(
            "breaker",
            state.status() == PipelineState.Status.PAUSED_BREAKER_OPEN ? "open" : "closed");
    if (state.detail() != null) {
      b.withDetail("detail", state.detail());
    }
    Ledger l = pipeline.ledger();
    b.withDetail("delivered", l.delivered())
        .withDetail("processed", l.processed())
        .withDetail("duplicates", l.duplicates())
        .withDetail("deadLettered", l.deadLettered())
        .withDetail("nacked", l.nacked())
        .withDetail("inFlight", l.inFlight());
    return b.build();
  }
}
