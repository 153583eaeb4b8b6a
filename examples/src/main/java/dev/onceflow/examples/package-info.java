/**
 * Runnable examples: the embedded demo ({@link dev.onceflow.examples.Demo}) and one consumer per
 * broker. See {@code examples/README.md} for how to run each.
 */
@NullMarked
package dev.onceflow.examples;

import org.jspecify.annotations.NullMarked;
