package dev.onceflow.spring.boot.actuate;

import dev.onceflow.outcome.Ledger;
import dev.onceflow.outcome.PipelineState;
import dev.onceflow.pipeline.Pipeline;
import dev.onceflow.spring.boot.DeadLetterCounts;
import dev.onceflow.spring.boot.OnceflowPipelines;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;

/**
 * The {@code onceflow} Actuator endpoint: {@code GET /actuator/onceflow} lists every pipeline with
 * its state, its ledger and its recent dead-letter counts; {@code GET /actuator/onceflow/{name}}
 * one of them (404 for an unknown name). Read-only; it reads snapshots and never blocks.
 */
@Endpoint(id = "onceflow")
public class OnceflowEndpoint {

  private final OnceflowPipelines pipelines;
  private final String store;

  /**
   * @param pipelines the pipelines
   * @param store a log-safe description of the idempotency store
   */
  public OnceflowEndpoint(OnceflowPipelines pipelines, String store) {
    this.pipelines = Objects.requireNonNull(pipelines, "pipelines");
    this.store = Objects.requireNonNull(store, "store");
  }

  /** Every pipeline. */
  @ReadOperation
  public OnceflowReport report() {
    Map<String, PipelineReport> out = new LinkedHashMap<>();
    pipelines.pipelines().forEach((name, p) -> out.put(name, report(name, p)));
    return new OnceflowReport(store, out);
  }

  /** One pipeline, or null (404) when there is none of that name. */
  @ReadOperation
  public @Nullable PipelineReport pipeline(@Selector String name) {
    Pipeline<?, ?> p = pipelines.pipelines().get(name);
    return p == null ? null : report(name, p);
  }

  private PipelineReport report(String name, Pipeline<?, ?> p) {
    PipelineState s = p.state();
    Ledger l = p.ledger();
    return new PipelineReport(
        s.status().name(),
        s.since().toString(),
        s.detail(),
        new LedgerReport(
            l.delivered(),
            l.processed(),
            l.duplicates(),
            l.deadLettered(),
            l.nacked(),
            l.inFlight(),
            l.balanced()),
        pipelines.deadLetters(name));
  }

  /**
   * The endpoint's answer.
   *
   * @param store the idempotency store
   * @param pipelines every pipeline by name
   */
  public record OnceflowReport(String store, Map<String, PipelineReport> pipelines) {}

  /**
   * One pipeline.
   *
   * @param state its {@link PipelineState.Status}
   * @param since when it entered that state
   * @param detail a log-safe explanation, or null
   * @param ledger its counts
   * @param deadLetters its dead letters since start and over the last hour
   */
  public record PipelineReport(
      String state,
      String since,
      @Nullable String detail,
      LedgerReport ledger,
      DeadLetterCounts deadLetters) {}

  /**
   * A pipeline's {@link Ledger}: {@code delivered = processed + duplicates + deadLettered + nacked
   * + inFlight}.
   */
  public record LedgerReport(
      long delivered,
      long processed,
      long duplicates,
      long deadLettered,
      long nacked,
      long inFlight,
      boolean balanced) {}
}
