package dev.onceflow.core;

import java.util.Objects;
import reactor.core.publisher.Mono;

/**
 * The one publisher contract of every broker adapter: publishes an {@link Envelope} with the {@link
 * HeaderConvention}, so that onceflow consumers read the same envelope back and deduplicate it.
 *
 * <ul>
 *   <li><b>The id is the message id</b> on every broker ({@code onceflow-id}; on RabbitMQ also the
 *       {@code message-id} property). A message without one gets a random UUID when {@code publish}
 *       is <em>called</em>; the result says which. Set the id yourself to have your own retries of
 *       the same message deduplicated.
 *   <li><b>No origin needed.</b> Build the message with {@code Envelope.builder()} and no {@code
 *       origin(...)}; an envelope that was received (a redrive) is published with its fields and
 *       headers, and its origin is ignored.
 *   <li><b>Lazy and repeatable.</b> The returned {@code Mono} sends when subscribed and completes
 *       once the broker durably accepted the message (Kafka {@code acks=all}, RabbitMQ publisher
 *       confirm, SQS {@code SendMessage} answer). Re-subscribing it (a retry) sends the same
 *       message with the same id again. Publishing is at-least-once: after an error the message may
 *       still have arrived.
 *   <li><b>Errors</b> are the broker's {@code *OperationException}, naming the operation, the
 *       destination and the message id.
 * </ul>
 *
 * <p>Implementations are thread-safe and never block the caller.
 *
 * @param <R> the broker's result type
 */
public interface MessagePublisher<R extends PublishResult> extends AutoCloseable {

  /**
   * Publishes {@code message} to {@code destination}: a Kafka topic, a RabbitMQ routing key (on the
   * publisher's exchange), an SQS queue URL.
   */
  Mono<R> publish(String destination, Envelope message);

  /**
   * Publishes {@code payload} with the message id {@code messageId} and no other field. The same on
   * every broker: the second argument is always the message id.
   */
  default Mono<R> publish(String destination, String messageId, byte[] payload) {
    Check.notBlank(messageId, "messageId");
    Objects.requireNonNull(payload, "payload");
    return publish(destination, Envelope.builder().messageId(messageId).payload(payload).build());
  }

  /** Releases what the publisher owns (connections, producers); may block. Never throws. */
  @Override
  void close();
}
