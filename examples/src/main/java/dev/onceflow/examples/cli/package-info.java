/**
 * The consumer CLI ({@link dev.onceflow.examples.cli.OnceflowCli}): consume, publish, dead-letters,
 * redrive.
 */
@NullMarked
package dev.onceflow.examples.cli;

import org.jspecify.annotations.NullMarked;
