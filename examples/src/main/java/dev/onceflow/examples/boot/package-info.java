/**
 * A Spring Boot WebFlux service on the onceflow starter: an idempotent Kafka consumer of orders and
 * an idempotent {@code POST /orders} (Idempotency-Key), deduplicated in one store, with health, the
 * {@code onceflow} endpoint and Prometheus metrics. Run {@link
 * dev.onceflow.examples.boot.OrdersApplication}.
 */
@NullMarked
package dev.onceflow.examples.boot;

import org.jspecify.annotations.NullMarked;
