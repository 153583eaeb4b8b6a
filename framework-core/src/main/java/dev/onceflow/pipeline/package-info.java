/**
 * The pipeline and its fluent DSL: {@link dev.onceflow.pipeline.Onceflow#consume} is the entry
 * point.
 */
@NullMarked
package dev.onceflow.pipeline;

import org.jspecify.annotations.NullMarked;
