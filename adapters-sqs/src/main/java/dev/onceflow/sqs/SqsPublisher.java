package dev.onceflow.sqs;

import dev.onceflow.core.BrokerKind;
import dev.onceflow.core.Envelope;
import dev.onceflow.core.HeaderConvention;
import dev.onceflow.core.Origin;
import dev.onceflow.sqs.internal.SqsCodec;
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
 * Publishes envelopes to an SQS queue so that an {@link SqsSource} (or any onceflow consumer) reads
 * them back with the same envelope. Thread-safe; the client is not owned.
 *
 * <p><b>Stable message id.</b> Every message carries its onceflow id in the {@code onceflow-id}
 * attribute. An envelope without an id is given a random UUID when {@code publish} is
 * <em>called</em>, so a resubscription or retry of the returned {@code Mono} re-sends the same id
 * and a consumer's deduplication absorbs the copy.
 *
 * <p><b>FIFO queues</b> (URL ending in {@code .fifo}, or {@link Builder#fifo(boolean)}): {@code
 * MessageDeduplicationId} is the message id and {@code MessageGroupId} the entity key (the message
 * id when the envelope has no key, so such messages are not ordered among themselves). Values
 * longer than 128 characters or with characters SQS does not accept there are replaced by their hex
 * SHA-256. SQS drops a second message with the same deduplication id within 5 minutes; the
 * consumer's deduplication covers the rest.
 *
 * <p><b>Attributes and body.</b> See the package documentation: the convention headers and the
 * envelope's headers become String attributes, packed beyond 10; a non-text payload travels
 * base64-encoded.
 *
 * <p>Each returned {@code Mono} sends when subscribed and completes once SQS answered; failed batch
 * lines and transport errors are retried up to {@link Builder#sendAttempts(int)} times, then the
 * {@code Mono} errors with an {@link SqsOperationException}.
 */
public final class SqsPublisher {

  /** Send attempts of one message (the SDK retries each call on top of these). */
  public static final int DEFAULT_SEND_ATTEMPTS = 3;

  /** {@code SendMessageBatch} calls in flight at once in {@link #publishAll(List)}. */
  public static final int DEFAULT_BATCH_CONCURRENCY = 4;

  private final SqsSender sender;
  private final boolean fifo;
  private final int batchConcurrency;

  private SqsPublisher(Builder b) {
    this.sender =
        new SqsSender(
            Objects.requireNonNull(b.client, "`client` must be set"),
            Objects.requireNonNull(b.queueUrl, "`queueUrl` must be set"),
            b.sendAttempts);
    this.fifo = b.fifo != null ? b.fifo : b.queueUrl.endsWith(".fifo");
    this.batchConcurrency = b.batchConcurrency;
  }

  /** A publisher to the queue at {@code queueUrl}, with defaults. */
  public static SqsPublisher create(SqsAsyncClient client, String queueUrl) {
    return builder().client(client).queueUrl(queueUrl).build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Whether messages are sent with FIFO group and deduplication ids. */
  public boolean fifo() {
    return fifo;
  }

  /**
   * Publishes one message; the returned {@code Mono} sends it when subscribed and emits its
   * onceflow message id once SQS accepted it.
   */
  public Mono<String> publish(Envelope envelope) {
    SqsSender.Outgoing o = outgoing(Objects.requireNonNull(envelope, "envelope"));
    return sender.send(o).thenReturn(o.id());
  }

  /**
   * Publishes one message built from {@code message}; its origin, if any, is ignored. See {@link
   * #publish(Envelope)}.
   */
  public Mono<String> publish(Envelope.Builder message) {
    Objects.requireNonNull(message, "message");
    return publish(message.origin(placeholderOrigin()).build());
  }

  /**
   * Publishes messages in {@code SendMessageBatch} calls of up to 10; emits their message ids, in
   * order, once SQS accepted every one. On a FIFO queue the batches are sent one after the other,
   * so that the order of the list is the order within each group; a line retried after a partial
   * batch failure lands after the lines that succeeded, so publish one message at a time where a
   * group's order must survive such failures.
   */
  public Mono<List<String>> publishAll(List<Envelope> envelopes) {
    Objects.requireNonNull(envelopes, "envelopes");
    List<SqsSender.Outgoing> out = new ArrayList<>(envelopes.size());
    List<String> ids = new ArrayList<>(envelopes.size());
    for (Envelope e : envelopes) {
      SqsSender.Outgoing o = outgoing(Objects.requireNonNull(e, "envelope"));
      out.add(o);
      ids.add(o.id());
    }
    return sender.sendAll(out, fifo ? 1 : batchConcurrency).thenReturn(List.copyOf(ids));
  }

  private SqsSender.Outgoing outgoing(Envelope envelope) {
    String id = envelope.messageId();
    if (id == null) {
      id = UUID.randomUUID().toString();
      envelope = envelope.toBuilder().messageId(id).build();
    }
    Map.Entry<String, Map<String, MessageAttributeValue>> wire =
        SqsSender.wire(envelope.payload(), HeaderConvention.toHeaders(envelope));
    @Nullable String group = null;
    @Nullable String dedup = null;
    if (fifo) {
      String key = envelope.entityKey();
      group = SqsCodec.fifoId(key != null ? key : id);
      dedup = SqsCodec.fifoId(id);
    }
    return new SqsSender.Outgoing(id, wire.getKey(), wire.getValue(), group, dedup);
  }

  private Origin placeholderOrigin() {
    return new Origin(BrokerKind.SQS, sender.queueName(), -1, -1, null, null, false, 0);
  }

  /** Builds an {@link SqsPublisher}. Not thread-safe. */
  public static final class Builder {
    private @Nullable SqsAsyncClient client;
    private @Nullable String queueUrl;
    private @Nullable Boolean fifo;
    private int sendAttempts = DEFAULT_SEND_ATTEMPTS;
    private int batchConcurrency = DEFAULT_BATCH_CONCURRENCY;

    private Builder() {}

    /** The client to send with. Required; not closed by the publisher. */
    public Builder client(SqsAsyncClient client) {
      this.client = Objects.requireNonNull(client, "client");
      return this;
    }

    /** The queue's URL. Required. */
    public Builder queueUrl(String queueUrl) {
      Objects.requireNonNull(queueUrl, "queueUrl");
      if (queueUrl.isBlank()) {
        throw new IllegalArgumentException("`queueUrl` must not be blank");
      }
      this.queueUrl = queueUrl;
      return this;
    }

    /** Whether the queue is FIFO; by default, whether its URL ends in {@code .fifo}. */
    public Builder fifo(boolean fifo) {
      this.fifo = fifo;
      return this;
    }

    /** Attempts of one message before its publish fails. */
    public Builder sendAttempts(int sendAttempts) {
      if (sendAttempts <= 0) {
        throw new IllegalArgumentException(
            "`sendAttempts` must be positive, but was " + sendAttempts);
      }
      this.sendAttempts = sendAttempts;
      return this;
    }

    /** Batch calls in flight at once in {@code publishAll} on a standard queue. */
    public Builder batchConcurrency(int batchConcurrency) {
      if (batchConcurrency <= 0) {
        throw new IllegalArgumentException(
            "`batchConcurrency` must be positive, but was " + batchConcurrency);
      }
      this.batchConcurrency = batchConcurrency;
      return this;
    }

    /**
     * @throws IllegalArgumentException if the client or the queue URL is missing
     */
    public SqsPublisher build() {
      if (client == null) {
        throw new IllegalArgumentException("`client` must be set");
      }
      if (queueUrl == null) {
        throw new IllegalArgumentException("`queueUrl` must be set");
      }
      return new SqsPublisher(this);
    }
  }
}
