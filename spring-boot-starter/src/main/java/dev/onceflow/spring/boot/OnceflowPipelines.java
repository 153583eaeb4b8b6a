package dev.onceflow.spring.boot;

import dev.onceflow.pipeline.Pipeline;
import java.util.Map;

/**
 * The pipelines the starter built from {@code onceflow.pipelines.*}, by name, as a bean. Their
 * lifecycle belongs to the application context: they start with it (unless {@code auto-startup} is
 * false) and stop gracefully with it; do not call {@code start()} or {@code stop()} on them while
 * the context runs them.
 */
public interface OnceflowPipelines {

  /** Every pipeline by name, in the order of the properties. */
  Map<String, Pipeline<?, ?>> pipelines();

  /**
   * The pipeline named {@code name}.
   *
   * @throws IllegalArgumentException when there is none; the message lists the names there are
   */
  Pipeline<?, ?> pipeline(String name);

  /**
   * The dead letters of a pipeline since the context started, and over the last hour by reason.
   *
   * @throws IllegalArgumentException when there is no pipeline of that name
   */
  DeadLetterCounts deadLetters(String name);
}
