package dev.onceflow.pipeline;

/** What the pipeline does with a message that has no id. */
public enum MissingId {
  /** Dead-letter it with reason {@code MISSING_ID} (the default: nothing is guessed). */
  DEAD_LETTER,
  /**
   * Use a hash of the payload as its id: the same payload is the same message. Right for messages
   * whose payload is unique by nature; wrong where two identical payloads are two events.
   */
  DERIVE_FROM_PAYLOAD,
  /**
   * Use a hash of the broker coordinates (topic, partition, offset; queue and broker message id) as
   * its id: a redelivery of the same record is a duplicate, a re-send by the producer is not. Right
   * for Kafka and SQS; RabbitMQ has no stable coordinates and falls back to DEAD_LETTER.
   */
  DERIVE_FROM_ORIGIN
}
