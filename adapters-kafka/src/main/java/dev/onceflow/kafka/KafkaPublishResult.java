package dev.onceflow.kafka;

/**
 * Where a {@link KafkaPublisher} wrote a message, and the convention values it carries.
 *
 * @param topic the topic
 * @param partition the partition the broker stored it in
 * @param offset its offset
 * @param messageId the {@code onceflow-id} header
 * @param producerId the {@code onceflow-producer-id} header
 * @param sequence the {@code onceflow-sequence} header
 */
public record KafkaPublishResult(
    String topic, int partition, long offset, String messageId, String producerId, long sequence) {}
