/**
 * What a running pipeline reports: the {@link dev.onceflow.outcome.Outcome} of every delivery, the
 * {@link dev.onceflow.outcome.Ledger} that balances them, the {@link
 * dev.onceflow.outcome.PipelineState} for health checks, and the {@link
 * dev.onceflow.outcome.PipelineListener} for event logs and tracing.
 */
@NullMarked
package dev.onceflow.outcome;

import org.jspecify.annotations.NullMarked;
