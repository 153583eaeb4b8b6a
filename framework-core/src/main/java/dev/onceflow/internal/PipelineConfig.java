package dev.onceflow.internal;

import dev.onceflow.core.MessageSource;
import dev.onceflow.deadletter.DeadLetterSink;
import dev.onceflow.handler.Handled;
import dev.onceflow.handler.Message;
import dev.onceflow.pipeline.Decoder;
import dev.onceflow.pipeline.Dedup;
import dev.onceflow.pipeline.ResultCodec;
import dev.onceflow.pipeline.Retries;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.time.Clock;
import java.time.Duration;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/** A validated pipeline configuration, as the builder made it. */
public record PipelineConfig(
    String name,
    MessageSource source,
    Decoder<?> decoder,
    @Nullable Dedup dedup,
    Function<Message<Object>, Mono<Handled<Object>>> handler,
    Retries retries,
    @Nullable CircuitBreaker circuitBreaker,
    DeadLetterSink deadLetterSink,
    int concurrency,
    boolean orderedByKey,
    @Nullable Object meterRegistry,
    @Nullable ResultCodec<?> resultCodec,
    Scheduler scheduler,
    Clock clock,
    String owner,
    Duration breakerPoll,
    Duration storeRetry,
    Duration storeRetryMax,
    double heartbeatFraction) {}
