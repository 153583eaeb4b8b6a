/**
 * The Kafka adapter: {@link dev.onceflow.kafka.KafkaSource} (a consumer group with ordered,
 * finished-only offset commits), {@link dev.onceflow.kafka.KafkaDeadLetter} (a dead-letter topic)
 * and {@link dev.onceflow.kafka.KafkaPublisher} (an idempotent producer that stamps the header
 * convention).
 */
@NullMarked
package dev.onceflow.kafka;

import org.jspecify.annotations.NullMarked;
