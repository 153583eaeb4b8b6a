package dev.onceflow.pipeline;

import dev.onceflow.core.MessageSource;
import java.util.Objects;

/** The entry point of the DSL. */
public final class Onceflow {

  private Onceflow() {}

  /**
   * Starts a pipeline over a source. Then: {@code decode}, {@code deduplicate}, {@code handle},
   * {@code retry}, {@code circuitBreaker}, {@code deadLetterTo}, {@code concurrency}, {@code
   * build}.
   */
  public static PipelineBuilder<byte[], Object> consume(MessageSource source) {
    return new PipelineBuilder<>(Objects.requireNonNull(source, "source"));
  }
}
