package dev.onceflow.core;

/**
 * What every broker's publisher answers once the broker accepted a message: where it went and the
 * message id it carries. Each broker's result adds its own coordinates (Kafka partition and offset,
 * the SQS message id, ...).
 */
public interface PublishResult {

  /** The destination given to {@link MessagePublisher#publish(String, Envelope)}. */
  String destination();

  /**
   * The message id the message carries: the envelope's, or the one the publisher gave it. It is
   * what consumers deduplicate on.
   */
  String messageId();
}
