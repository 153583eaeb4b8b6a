/**
 * Internals of the SQS adapter: the attribute codec, the message mapping, the per-subscription
 * receive loop, the delete batcher, the sender and the reading of SDK errors. Not an API: anything
 * here may change without notice.
 */
@NullMarked
package dev.onceflow.sqs.internal;

import org.jspecify.annotations.NullMarked;
