package dev.onceflow.engine;

import dev.onceflow.core.Envelope;
import dev.onceflow.core.MessageSource;
import dev.onceflow.deadletter.DeadLetterSink;
import dev.onceflow.handler.Handled;
import dev.onceflow.handler.Message;
import dev.onceflow.outcome.PipelineListener;
import dev.onceflow.store.IdempotencyStore;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.time.Clock;
import java.time.Duration;
import java.util.function.Function;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/** A validated engine configuration, as the public builder made it. */
public record EngineConfig(
    String name,
    MessageSource source,
    PayloadDecoder decoder,
    @Nullable DedupConfig dedup,
    Function<Message<Object>, Mono<Handled<Object>>> handler,
    RetryPolicy retry,
    @Nullable CircuitBreaker breaker,
    DeadLetterSink deadLetters,
    int concurrency,
    boolean orderedByKey,
    @Nullable Object meterRegistry,
    @Nullable ResultCoding resultCodec,
    Scheduler scheduler,
    Clock clock,
    String owner,
    Duration breakerPoll,
    Duration storeRetry,
    Duration storeRetryMax,
    double heartbeatFraction,
    PipelineListener listener) {

  /** Turns a payload into the handler's type. */
  @FunctionalInterface
  public interface PayloadDecoder {
    Object decode(Envelope envelope) throws Exception;
  }

  /** Encodes results for the store and decodes cached ones. */
  public interface ResultCoding {
    byte[] encode(Object result);

    Object decode(byte[] bytes);
  }

  /** Attempts, which errors are retried, and the backoff before attempt n (from 2). */
  public record RetryPolicy(int maxAttempts, Predicate<Throwable> retryable, Backoff backoff) {

    /** The wait before attempt {@code nextAttempt}, given a random value in [0, 1). */
    @FunctionalInterface
    public interface Backoff {
      Duration before(int nextAttempt, double random);
    }
  }

  /** How keys are found. */
  public enum Strategy {
    MESSAGE_ID,
    CUSTOM_KEY,
    ENTITY_VERSION,
    PRODUCER_SEQUENCE
  }

  /** What a message without id becomes. */
  public enum MissingIdPolicy {
    DEAD_LETTER,
    DERIVE_FROM_PAYLOAD,
    DERIVE_FROM_ORIGIN
  }

  /** Deduplication: the store and how keys, leases, fingerprints and guards are made. */
  public record DedupConfig(
      IdempotencyStore store,
      Strategy strategy,
      @Nullable Function<Envelope, @Nullable String> keyFunction,
      Duration lease,
      Duration retention,
      @Nullable Function<Envelope, byte[]> fingerprint,
      MissingIdPolicy missingId,
      Duration inProgressBackoff,
      int maxKeyBytes,
      long firstSequence,
      @Nullable Duration gapTimeout) {}
}
