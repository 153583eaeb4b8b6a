package dev.onceflow.spring.boot;

import dev.onceflow.pipeline.PipelineBuilder;

/**
 * Customises the pipelines the starter builds from {@code onceflow.pipelines.*}, after the
 * properties were applied and before {@code build()}: a circuit breaker, a listener, a scheduler, a
 * different deduplication strategy. Every bean of this type is called for every pipeline, in {@link
 * org.springframework.core.annotation.Order} order; look at {@code name} to customise one.
 *
 * <pre>{@code
 * @Bean
 * PipelineCustomizer billingBreaker(CircuitBreakerRegistry breakers) {
 *   return (name, builder) -> {
 *     if (name.equals("orders")) {
 *       builder.circuitBreaker(breakers.circuitBreaker("billing"));
 *     }
 *   };
 * }
 * }</pre>
 *
 * A customizer that throws fails startup, with the pipeline's name in the message.
 */
@FunctionalInterface
public interface PipelineCustomizer {

  /**
   * @param name the pipeline's name
   * @param builder the pipeline's builder, with the properties applied
   */
  void customize(String name, PipelineBuilder<?, ?> builder);
}
