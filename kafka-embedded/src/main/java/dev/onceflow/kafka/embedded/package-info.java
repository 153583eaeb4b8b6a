/**
 * A real Kafka broker (KRaft, one node, loopback) started inside the JVM, for tests and demos. Not
 * for production.
 */
@NullMarked
package dev.onceflow.kafka.embedded;

import org.jspecify.annotations.NullMarked;
