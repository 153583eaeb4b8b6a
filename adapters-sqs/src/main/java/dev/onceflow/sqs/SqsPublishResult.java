package dev.onceflow.sqs;

import dev.onceflow.core.PublishResult;
import org.jspecify.annotations.Nullable;

/**
 * A message SQS accepted from an {@link SqsPublisher}.
 *
 * @param queueUrl the queue's URL, the {@link #destination()} given to {@code publish}
 * @param messageId the onceflow message id ({@code onceflow-id} attribute; on a FIFO queue also the
 *     deduplication id, or its hash)
 * @param sqsMessageId the id SQS gave this send (a new one for every send of the same message)
 * @param sequenceNumber the FIFO sequence number, or null on a standard queue
 */
public record SqsPublishResult(
    String queueUrl, String messageId, String sqsMessageId, @Nullable String sequenceNumber)
    implements PublishResult {

  /** The queue URL. */
  @Override
  public String destination() {
    return queueUrl;
  }
}
