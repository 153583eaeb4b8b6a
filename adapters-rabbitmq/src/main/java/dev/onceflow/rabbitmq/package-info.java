/**
 * The RabbitMQ adapter over spring-amqp (spring-rabbit): {@link dev.onceflow.rabbitmq.RabbitSource}
 * (a manual-ack {@link dev.onceflow.core.MessageSource} whose backpressure bound is {@code
 * basic.qos} prefetch), {@link dev.onceflow.rabbitmq.RabbitDeadLetter} (a dead-letter sink with
 * publisher confirms, or routing through the queue's own dead-letter exchange) and {@link
 * dev.onceflow.rabbitmq.RabbitPublisher} (a publisher with confirms and the onceflow header
 * convention).
 */
@NullMarked
package dev.onceflow.rabbitmq;

import org.jspecify.annotations.NullMarked;
