package dev.onceflow.spring.boot.internal;

import dev.onceflow.outcome.Outcome;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Starts the pipelines with the application context and stops them gracefully with it, in the web
 * server's graceful-shutdown phase: while the server drains its requests, the pipelines stop
 * pulling, let in-flight deliveries finish for up to {@code onceflow.shutdown-timeout}, then
 * release the leases of what did not finish. Neither start nor stop blocks: {@code start()} only
 * subscribes, and {@link #stop(Runnable)} signals Spring's callback when every pipeline has
 * stopped.
 */
public final class OnceflowLifecycle implements SmartLifecycle {

  /**
   * The phase of the web server's graceful shutdown ({@code
   * WebServerApplicationContext.GRACEFUL_SHUTDOWN_PHASE}): stopped before the server itself, after
   * the beans of the default phase.
   */
  public static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 1024;

  private static final Logger log = LoggerFactory.getLogger(OnceflowLifecycle.class);

  private final PipelineRegistry registry;
  private final Duration shutdownTimeout;
  private final List<Disposable> runs = new ArrayList<>();
  private volatile boolean running;

  public OnceflowLifecycle(PipelineRegistry registry, Duration shutdownTimeout) {
    this.registry = registry;
    this.shutdownTimeout = shutdownTimeout;
  }

  @Override
  public synchronized void start() {
    if (running) {
      return;
    }
    for (ManagedPipeline m : registry.managed().values()) {
      if (!m.properties().isAutoStartup()) {
        log.info("onceflow pipeline '{}' is not started (auto-startup=false)", m.name());
        continue;
      }
      runs.add(m.pipeline().start());
      runs.add(countDeadLetters(m));
      log.info(
          "onceflow pipeline '{}' started (store: {}, concurrency {}, lease {})",
          m.name(),
          m.storeDescription(),
          m.properties().getConcurrency(),
          m.properties().getLease());
    }
    running = true;
  }

  /** The pipeline's dead letters, counted from its outcome view while this run lasts. */
  private static Disposable countDeadLetters(ManagedPipeline m) {
    return m.pipeline()
        .observe()
        .ofType(Outcome.DeadLettered.class)
        .subscribe(
            d -> m.deadLetters().record(d.deadLetter().reason().name()),
            e -> log.warn("onceflow pipeline '{}': dead-letter counting ended", m.name(), e));
  }

  /**
   * Stops the pipelines and waits for them (at most the shutdown timeout and a little more), for
   * callers of the plain {@code Lifecycle.stop()}; Spring itself calls {@link #stop(Runnable)}.
   */
  @Override
  public void stop() {
    java.util.concurrent.CountDownLatch stopped = new java.util.concurrent.CountDownLatch(1);
    stop(stopped::countDown);
    try {
      if (!stopped.await(
          shutdownTimeout.toMillis() + 10_000, java.util.concurrent.TimeUnit.MILLISECONDS)) {
        log.warn("onceflow pipelines did not stop within {}", shutdownTimeout);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public synchronized void stop(Runnable callback) {
    if (!running) {
      callback.run();
      return;
    }
    running = false;
    List<Disposable> toDispose = new ArrayList<>(runs);
    runs.clear();
    Flux.fromIterable(registry.managed().values())
        .flatMap(
            m ->
                m.pipeline()
                    .stop(shutdownTimeout)
                    .doOnSuccess(
                        v ->
                            log.info(
                                "onceflow pipeline '{}' stopped; {}",
                                m.name(),
                                m.pipeline().ledger()))
                    .onErrorResume(
                        e -> {
                          log.warn("onceflow pipeline '{}' did not stop cleanly", m.name(), e);
                          return Mono.empty();
                        }))
        .then()
        .doFinally(
            s -> {
              toDispose.forEach(Disposable::dispose);
              callback.run();
            })
        .subscribe();
  }

  @Override
  public boolean isRunning() {
    return running;
  }

  @Override
  public int getPhase() {
    return PHASE;
  }
}
