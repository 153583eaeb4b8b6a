/**
 * HTTP idempotency for WebFlux: the {@link dev.onceflow.spring.boot.web.IdempotencyKeyWebFilter},
 * configured under {@code onceflow.http.idempotency.*}.
 */
@NullMarked
package dev.onceflow.spring.boot.web;

import org.jspecify.annotations.NullMarked;
