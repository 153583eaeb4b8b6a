/**
 * Helpers of the examples (the in-JVM Kafka broker, store selection). Internal: may change without
 * notice.
 */
@NullMarked
package dev.onceflow.examples.internal;

import org.jspecify.annotations.NullMarked;
