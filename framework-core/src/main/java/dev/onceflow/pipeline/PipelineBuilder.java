package dev.onceflow.pipeline;

import dev.onceflow.core.MessageSource;
import dev.onceflow.deadletter.DeadLetterSink;
import dev.onceflow.engine.Engine;
import dev.onceflow.engine.EngineConfig;
import dev.onceflow.handler.Handled;
import dev.onceflow.handler.Message;
import dev.onceflow.outcome.PipelineListener;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.UUID;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Builds a {@link Pipeline}. Not thread-safe; each setter validates its argument at once, and
 * {@link #build()} checks that the options fit together. {@code decode} and {@code handle} change
 * the builder's type parameters and return the same builder.
 *
 * @param <T> the decoded payload type
 * @param <R> the handler's result type
 */
public final class PipelineBuilder<T, R> {

  /** Default bound on deliveries in flight: 64. */
  public static final int DEFAULT_CONCURRENCY = 64;

  /** Default graceful-stop timeout: 30 s, the default lease. */
  public static final Duration DEFAULT_STOP_TIMEOUT = Duration.ofSeconds(30);

  /** Default wait between checks of an open circuit breaker: 100 ms. */
  public static final Duration DEFAULT_BREAKER_POLL = Duration.ofMillis(100);

  /** Default first wait after a store error before the store is tried again: 100 ms. */
  public static final Duration DEFAULT_STORE_RETRY = Duration.ofMillis(100);

  /** Default longest wait between tries of an unreachable store: 5 s. */
  public static final Duration DEFAULT_STORE_RETRY_MAX = Duration.ofSeconds(5);

  private final MessageSource source;
  private String name = "onceflow";
  private @Nullable Decoder<?> decoder;
  private @Nullable Dedup dedup;
  private @Nullable Function<Message<Object>, Mono<Handled<Object>>> handler;
  private Retries retries = Retries.defaults();
  private boolean withEffects;
  private @Nullable CircuitBreaker circuitBreaker;
  private @Nullable DeadLetterSink deadLetterSink;
  private int concurrency = DEFAULT_CONCURRENCY;
  private boolean orderedByKey;
  private @Nullable MeterRegistry meterRegistry;
  private @Nullable ResultCodec<?> resultCodec;
  private Scheduler scheduler = Schedulers.parallel();
  private @Nullable Clock clock;
  private String owner = "onceflow-" + UUID.randomUUID();
  private Duration breakerPoll = DEFAULT_BREAKER_POLL;
  private Duration storeRetry = DEFAULT_STORE_RETRY;
  private Duration storeRetryMax = DEFAULT_STORE_RETRY_MAX;
  private double heartbeatFraction = 1.0 / 3;
  private PipelineListener listener = PipelineListener.NONE;

  PipelineBuilder(MessageSource source) {
    this.source = source;
  }

  /**
   * The pipeline's name: the namespace of its keys in the store, and a tag on its metrics and dead
   * letters. Letters, digits, '.', '_' and '-'; default "onceflow".
   */
  public PipelineBuilder<T, R> name(String name) {
    Retries.required(name, "name");
    if (!name.matches("[A-Za-z0-9._-]{1,100}")) {
      throw new IllegalArgumentException(
          "name must be 1 to 100 letters, digits, '.', '_' or '-', but was '" + name + "'");
    }
    this.name = name;
    return this;
  }

  /** How payloads are decoded; without it the handler gets the raw bytes. */
  @SuppressWarnings("unchecked")
  public <U> PipelineBuilder<U, R> decode(Decoder<U> decoder) {
    this.decoder = Retries.required(decoder, "decoder");
    return (PipelineBuilder<U, R>) this;
  }

  /** Deduplication through an idempotency store. Without it every delivery runs the handler. */
  public PipelineBuilder<T, R> deduplicate(Dedup dedup) {
    this.dedup = Retries.required(dedup, "dedup");
    return this;
  }

  /** The handler. Plain effects it makes are at-least-once with bounded re-runs. */
  @SuppressWarnings("unchecked")
  public <U> PipelineBuilder<T, U> handle(Handler<T, U> handler) {
    Retries.required(handler, "handler");
    Handler<Object, Object> h = (Handler<Object, Object>) (Handler<?, ?>) handler;
    this.withEffects = false;
    this.handler =
        m -> {
          Mono<Object> result = h.handle(m);
          return result == null ? null : result.map(r -> Handled.of(r));
        };
    return (PipelineBuilder<T, U>) this;
  }

  /**
   * A handler that returns transactional effects, which the store applies atomically with the
   * completion record: exactly once per key. Requires {@link #deduplicate(Dedup)}.
   */
  @SuppressWarnings("unchecked")
  public <U> PipelineBuilder<T, U> handleWithEffects(
      Function<Message<T>, Mono<Handled<U>>> handler) {
    Retries.required(handler, "handler");
    this.handler = (Function<Message<Object>, Mono<Handled<Object>>>) (Function<?, ?>) handler;
    this.withEffects = true;
    return (PipelineBuilder<T, U>) this;
  }

  /**
   * A blocking handler, run on {@code scheduler} (for example {@code Schedulers.boundedElastic()}),
   * never on the pipeline's own threads.
   */
  @SuppressWarnings("unchecked")
  public <U> PipelineBuilder<T, U> handleBlocking(
      Function<Message<T>, U> handler, Scheduler scheduler) {
    Retries.required(handler, "handler");
    Retries.required(scheduler, "scheduler");
    Function<Message<Object>, Object> h =
        (Function<Message<Object>, Object>) (Function<?, ?>) handler;
    this.withEffects = false;
    this.handler =
        m -> Mono.fromCallable(() -> h.apply(m)).subscribeOn(scheduler).map(r -> Handled.of(r));
    return (PipelineBuilder<T, U>) this;
  }

  /**
   * How the handler is retried. Default {@link Retries#defaults()}: 3 attempts, 1 s then 2 s apart
   * (with jitter); {@link Retries#none()} dead-letters at the first failure.
   */
  public PipelineBuilder<T, R> retry(Retries retries) {
    this.retries = Retries.required(retries, "retries");
    return this;
  }

  /**
   * A circuit breaker around the handler. While it is open the pipeline pauses (holds in-flight
   * messages, pulls nothing new) instead of burning messages through their retries into the
   * dead-letter destination; it resumes by itself when the breaker lets calls through again.
   */
  public PipelineBuilder<T, R> circuitBreaker(CircuitBreaker circuitBreaker) {
    this.circuitBreaker = Retries.required(circuitBreaker, "circuitBreaker");
    return this;
  }

  /** Where messages that failed for good go. Required. */
  public PipelineBuilder<T, R> deadLetterTo(DeadLetterSink sink) {
    this.deadLetterSink = Retries.required(sink, "sink");
    return this;
  }

  /** The bound on deliveries in flight. Default {@link #DEFAULT_CONCURRENCY}. */
  public PipelineBuilder<T, R> concurrency(int concurrency) {
    if (concurrency < 1 || concurrency > 10_000) {
      throw new IllegalArgumentException(
          "concurrency must be between 1 and 10000, but was " + concurrency);
    }
    this.concurrency = concurrency;
    return this;
  }

  /**
   * Messages of one entity key (the deduplication key when they have none) are handled one at a
   * time, in the order they were delivered. Different keys still run concurrently.
   */
  public PipelineBuilder<T, R> orderedByKey() {
    this.orderedByKey = true;
    return this;
  }

  /** Micrometer metrics into {@code registry}; see the README for the metric names. */
  public PipelineBuilder<T, R> metrics(MeterRegistry registry) {
    this.meterRegistry = Retries.required(registry, "registry");
    return this;
  }

  /** Caches handler results in the store, so that duplicates carry the first run's result. */
  public PipelineBuilder<T, R> resultCodec(ResultCodec<R> codec) {
    this.resultCodec = Retries.required(codec, "codec");
    return this;
  }

  /**
   * The scheduler for timers (backoffs, heartbeats, breaker polls). Default {@code
   * Schedulers.parallel()}; tests pass a virtual-time scheduler.
   */
  public PipelineBuilder<T, R> scheduler(Scheduler scheduler) {
    this.scheduler = Retries.required(scheduler, "scheduler");
    return this;
  }

  /** The clock of failure timestamps. Default: the scheduler's clock. */
  public PipelineBuilder<T, R> clock(Clock clock) {
    this.clock = Retries.required(clock, "clock");
    return this;
  }

  /** The owner name on this pipeline's leases. Default: "onceflow-" + a random UUID. */
  public PipelineBuilder<T, R> owner(String owner) {
    Retries.required(owner, "owner");
    if (owner.isBlank()) {
      throw new IllegalArgumentException("owner must not be blank");
    }
    this.owner = owner;
    return this;
  }

  /**
   * The fraction of the lease after which a running handler's lease is extended, in (0, 1). Default
   * 1/3.
   */
  public PipelineBuilder<T, R> heartbeat(double fractionOfLease) {
    if (!(fractionOfLease > 0 && fractionOfLease < 1)) {
      throw new IllegalArgumentException(
          "heartbeat fraction must be between 0 and 1 (exclusive), but was " + fractionOfLease);
    }
    this.heartbeatFraction = fractionOfLease;
    return this;
  }

  /** How often an open circuit breaker is checked. Default {@link #DEFAULT_BREAKER_POLL}. */
  public PipelineBuilder<T, R> breakerPollInterval(Duration interval) {
    Retries.requirePositive(interval, "breakerPollInterval");
    this.breakerPoll = interval;
    return this;
  }

  /**
   * How long the pipeline waits before trying an unreachable store again: {@code first}, then
   * doubling up to {@code max}. Defaults {@link #DEFAULT_STORE_RETRY} and {@link
   * #DEFAULT_STORE_RETRY_MAX}.
   */
  public PipelineBuilder<T, R> storeRetry(Duration first, Duration max) {
    Retries.requirePositive(first, "storeRetry first");
    Retries.requirePositive(max, "storeRetry max");
    if (max.compareTo(first) < 0) {
      throw new IllegalArgumentException(
          "storeRetry max must be at least first (" + first + "), but was " + max);
    }
    this.storeRetry = first;
    this.storeRetryMax = max;
    return this;
  }

  /**
   * A listener told of every step of every delivery (delivered, acquired, handler started and
   * finished, dead-lettered, recorded, settled), for event logs and tracing. It must not block;
   * what it throws is logged and ignored.
   */
  public PipelineBuilder<T, R> listener(PipelineListener listener) {
    this.listener = Retries.required(listener, "listener");
    return this;
  }

  /**
   * Builds the pipeline.
   *
   * @throws IllegalArgumentException when options do not fit together; the message says what to do
   */
  public Pipeline<T, R> build() {
    if (handler == null) {
      throw new IllegalArgumentException(
          "handle(...) is required: a pipeline needs a handler (pipeline '" + name + "')");
    }
    if (deadLetterSink == null) {
      throw new IllegalArgumentException(
          "deadLetterTo(...) is required: messages that fail for good need a destination "
              + "(pipeline '"
              + name
              + "'); use an adapter's dead-letter sink, or InMemoryDeadLetters in tests");
    }
    if (dedup == null && resultCodec != null) {
      throw new IllegalArgumentException(
          "resultCodec(...) needs deduplicate(...): results are cached in the store");
    }
    if (dedup == null && withEffects) {
      throw new IllegalArgumentException(
          "handleWithEffects(...) needs deduplicate(...): transactional effects are applied by the"
              + " idempotency store with the completion record (pipeline '"
              + name
              + "')");
    }
    if (dedup != null && dedup.lease().toMillis() < 3) {
      throw new IllegalArgumentException(
          "dedup lease must be at least 3 ms, but was " + dedup.lease());
    }
    Clock c = clock != null ? clock : new SchedulerClock(scheduler);
    Retries r = retries;
    Decoder<?> d = decoder == null ? Decoder.bytes() : decoder;
    EngineConfig config =
        new EngineConfig(
            name,
            source,
            d::decode,
            dedup == null ? null : dedupConfig(dedup),
            handler,
            new EngineConfig.RetryPolicy(r.maxAttempts(), r::isRetryable, r::backoff),
            circuitBreaker,
            deadLetterSink,
            concurrency,
            orderedByKey,
            meterRegistry,
            resultCodec == null ? null : coding(resultCodec),
            scheduler,
            c,
            owner,
            breakerPoll,
            storeRetry,
            storeRetryMax,
            heartbeatFraction,
            listener);
    return new EnginePipeline<>(new Engine(config));
  }

  private static EngineConfig.DedupConfig dedupConfig(Dedup d) {
    return new EngineConfig.DedupConfig(
        d.store(),
        EngineConfig.Strategy.valueOf(d.strategy().name()),
        d.keyFunction(),
        d.lease(),
        d.retention(),
        d.fingerprintFunction(),
        EngineConfig.MissingIdPolicy.valueOf(d.missingId().name()),
        d.inProgressBackoff(),
        d.maxKeyBytes(),
        d.firstSequence(),
        d.gapTimeout());
  }

  @SuppressWarnings("unchecked")
  private static EngineConfig.ResultCoding coding(ResultCodec<?> codec) {
    ResultCodec<Object> c = (ResultCodec<Object>) codec;
    return new EngineConfig.ResultCoding() {
      @Override
      public byte[] encode(Object result) {
        return c.encode(result);
      }

      @Override
      public Object decode(byte[] bytes) {
        return c.decode(bytes);
      }
    };
  }
}
