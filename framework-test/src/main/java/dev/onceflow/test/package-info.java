/**
 * The onceflow test kit: a fault-injecting store, an effect recorder, and helpers to run a pipeline
 * over in-memory messages and check its ledger. Use it with test scope.
 */
@NullMarked
package dev.onceflow.test;

import org.jspecify.annotations.NullMarked;
