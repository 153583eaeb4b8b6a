/**
 * In-memory implementations: the embedded default store, a broker-like source and a dead-letter
 * collector. They keep the full semantics of the SPIs and are the reference other implementations
 * are tested against.
 */
@NullMarked
package dev.onceflow.memory;

import org.jspecify.annotations.NullMarked;
