/**
 * The Amazon SQS adapter: {@link dev.onceflow.sqs.SqsSource} (a {@link
 * dev.onceflow.core.MessageSource} over the AWS SDK v2 {@code SqsAsyncClient}), {@link
 * dev.onceflow.sqs.SqsDeadLetter} and {@link dev.onceflow.sqs.SqsPublisher}.
 *
 * <p>Headers travel as SQS message attributes of type String, named as in {@link
 * dev.onceflow.core.HeaderConvention}. SQS allows at most 10 attributes per message: a message with
 * more headers keeps the first 9 (the convention headers come first) as attributes of their own and
 * carries every other header packed, form-url-encoded, in the one attribute {@code
 * onceflow-headers}. Sources unpack it, so {@code Envelope.headers()} is the same whatever the
 * count. A payload that is not valid UTF-8 text travels base64-encoded, marked by the header {@code
 * onceflow-body-encoding=base64}.
 */
@NullMarked
package dev.onceflow.sqs;

import org.jspecify.annotations.NullMarked;
