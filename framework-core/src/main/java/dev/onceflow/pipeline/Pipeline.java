package dev.onceflow.pipeline;

import dev.onceflow.outcome.Ledger;
import dev.onceflow.outcome.Outcome;
import dev.onceflow.outcome.PipelineState;
import java.time.Duration;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A built consumer. One pipeline runs at most once at a time.
 *
 * <p>Settlement guarantees: a delivery is acked only after its outcome is recorded; when the store
 * cannot answer nothing is acked, handled or dead-lettered; every delivery ends as exactly one
 * {@link Outcome}.
 */
public interface Pipeline<T, R> {

  String name();

  /**
   * Runs the pipeline for as long as the returned {@code Flux} is subscribed, emitting one outcome
   * per delivery after it is settled. Cancelling stops abruptly: unfinished deliveries are not
   * acked (the broker redelivers them) and their leases are released on a best-effort basis. Use
   * {@link #stop(Duration)} for a graceful stop. When the source fails, its error is signalled and
   * the unfinished deliveries are treated as on cancel.
   *
   * @throws IllegalStateException (as an error signal) if the pipeline is already running
   */
  Flux<Outcome<R>> outcomes();

  /**
   * Runs the pipeline in the background (subscribed on the pipeline's scheduler, so the caller is
   * never blocked), as {@link #outcomes()} with outcomes dropped (watch them with {@link
   * #observe()}). Disposing it is an abrupt stop, as cancelling {@link #outcomes()}.
   *
   * @throws IllegalStateException if the pipeline is already running
   */
  Disposable start();

  /**
   * Graceful stop: stops pulling, lets in-flight deliveries finish for up to {@code timeout}, then
   * cancels what did not finish, releases its leases and nacks it, and completes once the source is
   * closed. Completes at once if the pipeline is not running.
   */
  Mono<Void> stop(Duration timeout);

  /**
   * A hot view of outcomes, for watching a pipeline started with {@link #start()}: each subscriber
   * sees the outcomes settled after it subscribed, of this run and later ones, and it never
   * completes. It never slows the pipeline down: a subscriber that falls behind loses the oldest
   * outcomes beyond a buffer of 256 per subscriber. Use {@link #outcomes()} instead when the
   * outcome stream should drive the run (tests, a run that ends after n outcomes).
   */
  Flux<Outcome<R>> observe();

  /** The counts so far. */
  Ledger ledger();

  /** What the pipeline is doing now: running, paused (and why), stopping, stopped or failed. */
  PipelineState state();

  /** Whether a run is active (running, paused or stopping): {@code state().active()}. */
  boolean running();
}
