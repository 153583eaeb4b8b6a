/**
 * The onceflow Spring Boot starter: pipelines configured under {@code onceflow.pipelines.<name>}
 * and bound to the {@link dev.onceflow.spring.boot.PipelineHandler} bean of the same name, one
 * idempotency store for the pipelines and the {@code Idempotency-Key} filter, lifecycle, Actuator
 * health, an {@code onceflow} endpoint and Micrometer meters.
 */
@NullMarked
package dev.onceflow.spring.boot;

import org.jspecify.annotations.NullMarked;
