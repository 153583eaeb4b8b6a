package dev.onceflow.spring.boot.internal;

import dev.onceflow.pipeline.Pipeline;
import dev.onceflow.spring.boot.OnceflowProperties;
import java.util.List;

/**
 * A pipeline the starter built, with what it needs to run and stop it.
 *
 * @param name the pipeline's name
 * @param pipeline the pipeline
 * @param properties its properties
 * @param deadLetters its dead-letter counts
 * @param resources sources and sinks the starter created for it, closed after the pipeline stopped
 * @param storeDescription which store it deduplicates in, for logs and the endpoint
 */
public record ManagedPipeline(
    String name,
    Pipeline<?, ?> pipeline,
    OnceflowProperties.Pipeline properties,
    RecentDeadLetters deadLetters,
    List<AutoCloseable> resources,
    String storeDescription) {}
