package dev.onceflow.pipeline;

import dev.onceflow.handler.Message;
import reactor.core.publisher.Mono;

/**
 * The user's processing of one message. It must not block: a blocking handler is registered with
 * {@link PipelineBuilder#handleBlocking}. An empty {@code Mono} counts as success with no result.
 * Each retry calls it again.
 */
@FunctionalInterface
public interface Handler<T, R> {
  Mono<R> handle(Message<T> message);
}
