/**
 * What a handler receives ({@link dev.onceflow.handler.Message}: the decoded payload, the envelope,
 * the deduplication key and the lease's fence) and what it may return ({@link
 * dev.onceflow.handler.Handled}: a result with transactional effects).
 */
@NullMarked
package dev.onceflow.handler;

import org.jspecify.annotations.NullMarked;
