package dev.onceflow.sqs;

import dev.onceflow.core.Envelope;
import dev.onceflow.core.HeaderConvention;
import dev.onceflow.deadletter.DeadLetter;
import dev.onceflow.deadletter.DeadLetterSink;
import dev.onceflow.sqs.internal.SqsCodec;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;

/**
 * A {@link DeadLetterSink} that sends dead letters to an SQS queue.
 *
 * <p>A dead letter is the original payload (same body encoding rules as {@link SqsPublisher}) with
 * {@link DeadLetter#headers()} as attributes: the original headers and convention headers, then the
 * {@code onceflow-dlq-*} metadata (reason, exception class and message, attempts, first and last
 * failure, pipeline, dedup key, origin queue and SQS message id). That is more than SQS's 10
 * attributes, so the convention headers, then {@code onceflow-dlq-reason}, take the 9 attribute
 * slots and the rest is packed in {@code onceflow-headers}; an {@link SqsSource} on the dead-letter
 * queue shows them all in {@code Envelope.headers()}.
 *
 * <p>{@link #publish(DeadLetter)} completes once SQS answered the {@code SendMessage} (retried on
 * transient errors), and errors with an {@link SqsOperationException} otherwise. It does not touch
 * the original message: the pipeline acks (deletes) it after the dead letter was accepted, and
 * nacks it when the dead letter failed, so a dead letter is never how a message gets lost. On a
 * FIFO dead-letter queue the group id is the entity key (or message id) and the deduplication id a
 * hash of the message id and the failure time, so a message dead-lettered again after a redrive is
 * not dropped as a duplicate.
 *
 * <h2>The alternative: a redrive policy</h2>
 *
 * SQS can move messages to a dead-letter queue by itself: give the source queue the attribute
 * {@code RedrivePolicy} = {@link #redrivePolicy(String, int)} (the dead-letter queue's ARN and a
 * {@code maxReceiveCount}). A message received that many times without being deleted is moved as it
 * is, with its attributes but without onceflow's metadata. It catches what the pipeline never
 * settles (a consumer that crashes on the message every time), and works with or without this sink;
 * with both, choose a {@code maxReceiveCount} above the pipeline's retry budget so that the
 * pipeline's dead letter, which says why, comes first.
 */
public final class SqsDeadLetter implements DeadLetterSink {

  private final SqsSender sender;
  private final boolean fifo;

  private SqsDeadLetter(SqsAsyncClient client, String queueUrl, boolean fifo, int attempts) {
    this.sender = new SqsSender(client, queueUrl, attempts);
    this.fifo = fifo;
  }

  /**
   * A sink to the queue at {@code queueUrl} (FIFO when the URL ends in {@code .fifo}), with {@link
   * SqsPublisher#DEFAULT_SEND_ATTEMPTS} attempts.
   */
  public static SqsDeadLetter create(SqsAsyncClient client, String queueUrl) {
    Objects.requireNonNull(client, "client");
    Objects.requireNonNull(queueUrl, "queueUrl");
    return new SqsDeadLetter(
        client, queueUrl, queueUrl.endsWith(".fifo"), SqsPublisher.DEFAULT_SEND_ATTEMPTS);
  }

  /** The value of a source queue's {@code RedrivePolicy} attribute (JSON). */
  public static String redrivePolicy(String deadLetterQueueArn, int maxReceiveCount) {
    Objects.requireNonNull(deadLetterQueueArn, "deadLetterQueueArn");
    if (maxReceiveCount < 1 || maxReceiveCount > 1000) {
      throw new IllegalArgumentException(
          "`maxReceiveCount` must be between 1 and 1000, but was " + maxReceiveCount);
    }
    return "{\"deadLetterTargetArn\":\""
        + deadLetterQueueArn.replace("\\", "\\\\").replace("\"", "\\\"")
        + "\",\"maxReceiveCount\":\""
        + maxReceiveCount
        + "\"}";
  }

  @Override
  public Mono<Void> publish(DeadLetter deadLetter) {
    Objects.requireNonNull(deadLetter, "deadLetter");
    return Mono.defer(() -> sender.send(outgoing(deadLetter))).then();
  }

  private SqsSender.Outgoing outgoing(DeadLetter dl) {
    Envelope e = dl.envelope();
    Map<String, String> all = dl.headers();
    // Convention headers, then the reason, get the attribute slots; the rest may be packed.
    Map<String, String> ordered = new LinkedHashMap<>();
    for (String name : HeaderConvention.ALL) {
      String v = all.get(name);
      if (v != null) {
        ordered.put(name, v);
      }
    }
    ordered.put(DeadLetter.REASON, dl.reason().name());
    ordered.putAll(all);
    Map.Entry<String, Map<String, MessageAttributeValue>> wire =
        SqsSender.wire(e.payload(), ordered);
    String id = e.messageId() != null ? e.messageId() : e.origin().brokerMessageId();
    String label = id != null ? id : "(no id)";
    @Nullable String group = null;
    @Nullable String dedup = null;
    if (fifo) {
      String key = e.entityKey() != null ? e.entityKey() : id;
      group = SqsCodec.fifoId(key != null ? key : "onceflow-dead-letters");
      dedup = SqsCodec.sha256(label + "|" + dl.reason() + "|" + dl.lastFailure());
    }
    return new SqsSender.Outgoing(label, wire.getKey(), wire.getValue(), group, dedup);
  }
}
