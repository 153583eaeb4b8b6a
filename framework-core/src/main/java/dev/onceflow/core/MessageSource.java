package dev.onceflow.core;

import reactor.core.publisher.Flux;

/**
 * The SPI a broker adapter implements: a demand-driven stream of deliveries.
 *
 * <p>Contract:
 *
 * <ul>
 *   <li>{@link #receive()} is cold: each subscription starts consuming, and cancelling it stops
 *       consuming and releases the broker connection. Deliveries neither acked nor nacked when the
 *       subscription ends are redelivered by the broker.
 *   <li>It asks the broker only for what downstream requested (Kafka: pause partitions; RabbitMQ:
 *       {@code basic.qos} prefetch; SQS: receive on demand), so memory does not grow with the
 *       backlog.
 *   <li>It never acknowledges by itself: the pipeline settles every delivery through {@link
 *       Delivery#ack()} or {@link Delivery#nack(java.time.Duration)}.
 *   <li>A broker error it cannot recover from is signalled as {@code onError}; transient errors are
 *       retried by the adapter.
 * </ul>
 */
public interface MessageSource {

  /** A short, log-safe name such as {@code kafka:orders}. */
  String name();

  /** Deliveries, on demand. See the interface contract. */
  Flux<Delivery> receive();
}
