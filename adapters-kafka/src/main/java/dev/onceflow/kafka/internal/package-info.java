/** Internals of the Kafka adapter. Not an API: may change without notice. */
@NullMarked
package dev.onceflow.kafka.internal;

import org.jspecify.annotations.NullMarked;
