package dev.onceflow.sqs;

import dev.onceflow.core.Check;
import dev.onceflow.core.Envelope;
import dev.onceflow.core.HeaderConvention;
import dev.onceflow.core.MessagePublisher;
import dev.onceflow.sqs.internal.SqsCodec;
import dev.onceflow.sqs.internal.SqsMessages;
import dev.onceflow.sqs.internal.SqsSender;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;

/**
 * Publishes envelopes to SQS queues so that an {@link SqsSource} (or any onceflow consumer) reads
 * them back with the same envelope. The {@link MessagePublisher} contract holds; the destination is
 * a queue URL. Thread-safe; the client is not owned.
 *
 * <p><b>Stable message id.</b> Every message carries its onceflow id in the {@code onceflow-id}
 * attribute. An envelope without an id is given a random UUID when {@code publish} is
 * <em>called</em>, so a resubscription or retry of the returned {@code Mono} re-sends the same id
 * and a consumer's deduplication absorbs the copy.
 *
 * <p><b>FIFO queues</b> (the URL ends in {@code .fifo}, as SQS requires of FIFO queue names):
 * {@code MessageDeduplicationId} is the message id and {@code MessageGroupId} the entity key (the
 * message id when the envelope has no key, so such messages are not ordered among themselves).
 * Values longer than 128 characters or with characters SQS does not accept there are replaced by
 * their hex SHA-256. SQS drops a second message with the same deduplication id within 5 minutes;
 * the consumer's deduplication covers the rest.
 *
 * <p><b>Attributes and body.</b> See the package documentation: the convention headers and the
 * envelope's headers become String attributes, packed beyond 10; a non-text payload travels
 * base64-encoded.
 *
 * <p>Each returned {@code Mono} sends when subscribed and completes once SQS answered; failed batch
 * lines and transport errors are retried up to {@link SqsPublisherOptions#sendAttempts()} times,
 * then the {@code Mono} errors with an {@link SqsOperationException}.
 */
public final class SqsPublisher implements MessagePublisher<SqsPublishResult> {

  private final SqsPublisherOptions options;

  private SqsPublisher(SqsPublisherOptions options) {
    this.options = options;
  }

  /** A publisher with these options. */
  public static SqsPublisher create(SqsPublisherOptions options) {
    return new SqsPublisher(Objects.requireNonNull(options, "options"));
  }

  /** A publisher that sends with {@code client}, with the default options. */
  public static SqsPublisher create(SqsAsyncClient client) {
    return create(SqsPublisherOptions.builder().client(client).build());
  }

  /** The options of this publisher. */
  public SqsPublisherOptions options() {
    return options;
  }

  /**
   * Publishes one message to the queue at {@code queueUrl}; the returned {@code Mono} sends it when
   * subscribed and emits its result once SQS accepted it.
   */
  @Override
  public Mono<SqsPublishResult> publish(String queueUrl, Envelope message) {
    Check.notBlank(queueUrl, "queueUrl");
    SqsSender.Outgoing o = outgoing(Objects.requireNonNull(message, "message"), queueUrl);
    return sender(queueUrl).send(o);
  }

  /**
   * Publishes messages to the queue at {@code queueUrl} in {@code SendMessageBatch} calls of up to
   * 10; emits their results, in order, once SQS accepted every one. On a FIFO queue the batches are
   * sent one after the other, so that the order of the list is the order within each group; a line
   * retried after a partial batch failure lands after the lines that succeeded, so publish one
   * message at a time where a group's order must survive such failures.
   */
  public Mono<List<SqsPublishResult>> publishAll(String queueUrl, List<Envelope> messages) {
    Check.notBlank(queueUrl, "queueUrl");
    Objects.requireNonNull(messages, "messages");
    List<SqsSender.Outgoing> out = new ArrayList<>(messages.size());
    for (Envelope e : messages) {
      out.add(outgoing(Objects.requireNonNull(e, "message"), queueUrl));
    }
    return sender(queueUrl)
        .sendAll(out, SqsMessages.isFifo(queueUrl) ? 1 : options.batchConcurrency());
  }

  private SqsSender sender(String queueUrl) {
    return new SqsSender(options.client(), queueUrl, options.sendAttempts());
  }

  private static SqsSender.Outgoing outgoing(Envelope envelope, String queueUrl) {
    String id = envelope.messageId();
    if (id == null) {
      id = UUID.randomUUID().toString();
      envelope = envelope.toBuilder().messageId(id).build();
    }
    Map.Entry<String, Map<String, MessageAttributeValue>> wire =
        SqsSender.wire(envelope.payload(), HeaderConvention.toHeaders(envelope));
    @Nullable String group = null;
    @Nullable String dedup = null;
    if (SqsMessages.isFifo(queueUrl)) {
      String key = envelope.entityKey();
      group = SqsCodec.fifoId(key != null ? key : id);
      dedup = SqsCodec.fifoId(id);
    }
    return new SqsSender.Outgoing(id, wire.getKey(), wire.getValue(), group, dedup);
  }

  /** Nothing to release: the client is the caller's. */
  @Override
  public void close() {}

  @Override
  public String toString() {
    return "SqsPublisher{" + options + "}";
  }
}
