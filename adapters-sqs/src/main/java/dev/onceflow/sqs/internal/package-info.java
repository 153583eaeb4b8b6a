/**
 * Internals of the SQS adapter: the attribute codec, the delete batcher and the per-subscription
 * receive loop. Not an API: anything here may change without notice.
 */
@NullMarked
package dev.onceflow.sqs.internal;

import org.jspecify.annotations.NullMarked;
