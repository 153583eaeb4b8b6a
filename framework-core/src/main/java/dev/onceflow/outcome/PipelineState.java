package dev.onceflow.outcome;

import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What a pipeline is doing now, for health checks and logs.
 *
 * @param status the status
 * @param since when the pipeline entered this status, on the pipeline's clock
 * @param detail a log-safe explanation (for example the breaker's name, or the store error's
 *     message), or null
 * @param cause the error behind {@link Status#PAUSED_STORE_UNAVAILABLE} or {@link Status#FAILED},
 *     or null
 */
public record PipelineState(
    Status status, Instant since, @Nullable String detail, @Nullable Throwable cause) {

  /** The statuses of a pipeline. */
  public enum Status {
    /** Built and never started, or stopped by {@code stop()} or by cancelling its run. */
    STOPPED,
    /** Pulling and processing deliveries. */
    RUNNING,
    /**
     * Running, but the idempotency store does not answer: no handler runs, nothing is acked, and
     * nothing new is pulled; the store is probed with a growing backoff (fail closed).
     */
    PAUSED_STORE_UNAVAILABLE,
    /**
     * Running, but the circuit breaker around the handler is open: in-flight deliveries wait, and
     * nothing new is pulled, until the breaker lets calls through again (outage is not poison).
     */
    PAUSED_BREAKER_OPEN,
    /** {@code stop()} was called: no new deliveries are pulled, in-flight ones drain. */
    STOPPING,
    /** The run ended with an error (the source failed); see {@link PipelineState#cause()}. */
    FAILED
  }

  public PipelineState {
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(since, "since");
  }

  /**
   * Whether the pipeline is running and processing: {@link Status#RUNNING}. A paused pipeline is
   * running but not up.
   */
  public boolean up() {
    return status == Status.RUNNING;
  }

  /** Whether a run is active: running, paused or stopping. */
  public boolean active() {
    return status != Status.STOPPED && status != Status.FAILED;
  }

  @Override
  public String toString() {
    return status + " since " + since + (detail == null ? "" : " (" + detail + ")");
  }
}
