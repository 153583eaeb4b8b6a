package dev.onceflow.spring.boot;

import dev.onceflow.pipeline.Handler;

/**
 * The application's processing of one message of a configured pipeline, declared as a bean whose
 * name is the pipeline's name:
 *
 * <pre>{@code
 * @Bean
 * PipelineHandler<Order, Receipt> orders(Billing billing) {
 *   return msg -> billing.charge(msg.payload(), msg.key());
 * }
 * }</pre>
 *
 * binds to {@code onceflow.pipelines.orders.*}. The payload type {@code T} is read from the bean's
 * declared type: {@code byte[]} gets the raw payload, {@code String} the payload as UTF-8 text, and
 * any other type is read from JSON with the application's Jackson {@code JsonMapper}. A result
 * {@code R} other than {@code Void} is cached in the store as JSON, so that duplicates carry it.
 *
 * <p>The contract is {@link Handler}'s: it must not block (return a {@code Mono} that does the
 * blocking work on {@code Schedulers.boundedElastic()}), each retry calls it again, and its plain
 * effects are at-least-once with bounded re-runs; pass {@code msg.key()} and {@code msg.fence()}
 * downstream for exactly-once effects.
 *
 * @param <T> the payload type
 * @param <R> the result type
 */
@FunctionalInterface
public interface PipelineHandler<T, R> extends Handler<T, R> {}
