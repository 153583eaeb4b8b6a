/**
 * The pipeline engine. Internal: these types may change without notice; use {@link
 * dev.onceflow.pipeline.Onceflow} to build a pipeline.
 *
 * <p>The engine is cut into stages that each own one concern and hand back a {@link
 * dev.onceflow.engine.Verdict}: {@link dev.onceflow.engine.KeyResolver} (key, guard, fingerprint,
 * limits), {@link dev.onceflow.engine.LeaseFlow} (acquire, decode, handle, complete), {@link
 * dev.onceflow.engine.HandlerRunner} (attempts, backoff, breaker permits), the per-run {@link
 * dev.onceflow.engine.StoreGate} and {@link dev.onceflow.engine.BreakerGate}, and the {@link
 * dev.onceflow.engine.LeaseHeartbeat}. {@link dev.onceflow.engine.Settlement} is the one place that
 * acks, nacks, releases and dead-letters. Waits are timers ({@code repeatWhenEmpty}, shared
 * pollers), never recursion, so that an outage of any length costs constant stack and operators.
 */
@NullMarked
package dev.onceflow.engine;

import org.jspecify.annotations.NullMarked;
