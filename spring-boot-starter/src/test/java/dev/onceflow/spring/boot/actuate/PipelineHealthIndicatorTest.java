package dev.onceflow.spring.boot.actuate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.onceflow.outcome.Ledger;
import dev.onceflow.outcome.Outcome;
import dev.onceflow.outcome.PipelineState;
import dev.onceflow.pipeline.Pipeline;
import java.time.Duration;
import java.time.Instant;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** How each pipeline state maps to a health status (pure mapping, on a stub pipeline). */
class PipelineHealthIndicatorTest {

  /** A pipeline that only reports a given state and ledger. */
  private record StubPipeline(PipelineState state, Ledger ledger)
      implements Pipeline<Object, Object> {
    @Override
    public String name() {
      return "orders";
    }

    @Override
    public Flux<Outcome<Object>> outcomes() {
      return Flux.empty();
    }

    @Override
    public Disposable start() {
      return () -> {};
    }

    @Override
    public Mono<Void> stop(Duration timeout) {
      return Mono.empty();
    }

    @Override
    public Flux<Outcome<Object>> observe() {
      return Flux.empty();
    }

    @Override
    public boolean running() {
      return state.active();
    }
  }

  private static Health health(
      PipelineState.Status status, @Nullable String detail, boolean shouldRun) {
    PipelineState state =
        new PipelineState(status, Instant.parse("2026-11-30T00:00:00Z"), detail, null);
    return new PipelineHealthIndicator(
            new StubPipeline(state, new Ledger(5, 3, 1, 1, 0, 0)), shouldRun)
        .health();
  }

  @Test
  void runningIsUpWithTheLedger() {
    Health h = health(PipelineState.Status.RUNNING, null, true);
    assertThat(h.getStatus()).isEqualTo(Status.UP);
    assertThat(h.getDetails())
        .containsEntry("state", "RUNNING")
        .containsEntry("store", "reachable")
        .containsEntry("breaker", "closed")
        .containsEntry("processed", 3L)
        .containsEntry("duplicates", 1L);
  }

  @Test
  void aShutStoreGateIsDown() {
    Health h = health(PipelineState.Status.PAUSED_STORE_UNAVAILABLE, "Redis timed out", true);
    assertThat(h.getStatus()).isEqualTo(Status.DOWN);
    assertThat(h.getDetails())
        .containsEntry("store", "unreachable")
        .containsEntry("detail", "Redis timed out");
  }

  @Test
  void anOpenBreakerIsUpAndSaysSo() {
    Health h = health(PipelineState.Status.PAUSED_BREAKER_OPEN, "billing", true);
    assertThat(h.getStatus()).isEqualTo(Status.UP);
    assertThat(h.getDetails()).containsEntry("breaker", "open");
  }

  @Test
  void failedAndStoppedAreDownStoppingIsOutOfServiceAndANotStartedPipelineIsUnknown() {
    assertThat(health(PipelineState.Status.FAILED, "boom", true).getStatus())
        .isEqualTo(Status.DOWN);
    assertThat(health(PipelineState.Status.STOPPED, null, true).getStatus()).isEqualTo(Status.DOWN);
    assertThat(health(PipelineState.Status.STOPPING, null, true).getStatus())
        .isEqualTo(Status.OUT_OF_SERVICE);
    assertThat(health(PipelineState.Status.STOPPED, null, false).getStatus())
        .isEqualTo(Status.UNKNOWN);
  }
}
