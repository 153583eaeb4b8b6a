package dev.onceflow.kafka;

import dev.onceflow.core.PublishResult;

/**
 * Where a {@link KafkaPublisher} wrote a message, and the convention values it carries.
 *
 * @param topic the topic
 * @param partition the partition the broker stored it in
 * @param offset its offset
 * @param messageId the {@code onceflow-id} header
 * @param producerId the {@code onceflow-producer-id} header
 * @param sequence the {@code onceflow-sequence} header, or -1 when the message carried a producer
 *     id of its own without a readable sequence
 */
public record KafkaPublishResult(
    String topic, int partition, long offset, String messageId, String producerId, long sequence)
    implements PublishResult {

  /** The topic. */
  @Override
  public String destination() {
    return topic;
  }
}
