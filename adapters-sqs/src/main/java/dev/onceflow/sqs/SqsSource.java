package dev.onceflow.sqs;

import dev.onceflow.core.Delivery;
import dev.onceflow.core.HeaderConvention;
import dev.onceflow.core.MessageSource;
import dev.onceflow.core.Origin;
import dev.onceflow.sqs.internal.SqsMessages;
import dev.onceflow.sqs.internal.SqsReceiver;
import java.time.Duration;
import java.util.Objects;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;

/**
 * A {@link MessageSource} over an SQS queue, through the AWS SDK v2 {@code SqsAsyncClient}.
 *
 * <p><b>Receiving.</b> Each subscription to {@link #receive()} runs its own receive loop. It long
 * polls ({@code ReceiveMessage} with {@link SqsSourceOptions#waitTime()}) only for what downstream
 * requested and has not been asked for yet, at most 10 messages per call, with up to {@link
 * SqsSourceOptions#maxConcurrentReceives()} calls in flight when demand is high, and never more
 * than {@link SqsSourceOptions#maxInFlight()} messages received and not yet settled. No call
 * blocks: deliveries are emitted on the SDK's response threads. The stream never completes by
 * itself. Cancelling it aborts the receives in flight and stops the heartbeat; messages a receive
 * brought back after the cancel are made visible again at once; unsettled deliveries become visible
 * again when their visibility timeout expires (SQS redelivers them).
 *
 * <p><b>Settling.</b> {@link Delivery#ack()} deletes the message: deletes are gathered into {@code
 * DeleteMessageBatch} calls (flushed at {@link SqsSourceOptions#deleteBatchSize()} entries or after
 * {@link SqsSourceOptions#deleteInterval()}); a delete that fails (the call, or its line of a
 * partial failure) is retried up to {@link SqsSourceOptions#deleteAttempts()} times, and the ack's
 * {@code Mono} completes once SQS confirmed the delete, or errors with an {@link
 * SqsOperationException} if it failed for good (the message is then delivered again). {@link
 * Delivery#nack(Duration)} sets the message's visibility timeout to the delay ({@code
 * ChangeMessageVisibility}; zero makes it visible at once; rounded up to whole seconds, capped at
 * SQS's 12 hours). Settlement works after the subscription ended, as long as the receipt handle is
 * valid. The delay policy (e.g. exponential on {@link Origin#attempt()}) is the pipeline's.
 *
 * <p><b>Visibility heartbeat.</b> Every message is received with {@link
 * SqsSourceOptions#visibilityTimeout()}. While a delivery is unsettled for longer than {@link
 * SqsSourceOptions#heartbeatFraction()} of it since its last extension, its visibility is extended
 * by another visibility timeout ({@code ChangeMessageVisibilityBatch}), so a slow handler does not
 * cause a second delivery. Extensions stop when the delivery is settled or the subscription ends
 * (and at SQS's limit of 12 hours since the first receive).
 *
 * <p><b>Envelope.</b> Headers are the message's String and Number attributes (see the package
 * documentation for the packed {@code onceflow-headers} attribute), read by {@link
 * HeaderConvention#apply}: the message id is the {@linkplain SqsSourceOptions#idHeader() configured
 * id attribute}, else {@code onceflow-id}, else a CloudEvents {@code ce-id} or {@code ce_id}. The
 * entity key falls back to the FIFO {@code MessageGroupId} when no {@code onceflow-key} header is
 * present. System attributes listed in {@link SqsSourceOptions#systemAttributeNames()} appear as
 * {@code sqs-<Name>} headers. The origin is {@code (SQS, queue name, -1, -1, SQS message id,
 * receipt handle, receiveCount > 1, receiveCount)} with receiveCount SQS's {@code
 * ApproximateReceiveCount}.
 *
 * <p><b>FIFO queues.</b> SQS hands out the messages of a group in order and holds back the rest of
 * a group while one of its messages is in flight; the source emits each receive's messages in the
 * order SQS returned them. Process with the pipeline's {@code orderedByKey()} to keep the order
 * downstream.
 *
 * <p><b>Errors.</b> Transient receive errors (network, throttling, 5xx) are logged and retried with
 * a backoff of up to 5 s; errors SQS blames on the request (a missing queue, denied access) end the
 * stream with {@code onError}.
 */
public final class SqsSource implements MessageSource {

  private final SqsSourceOptions options;
  private final String queueName;

  private SqsSource(SqsSourceOptions options) {
    this.options = Objects.requireNonNull(options, "options");
    String url = options.queueUrl();
    this.queueName =
        url != null ? SqsMessages.queueNameOf(url) : Objects.requireNonNull(options.queueName());
  }

  /** A source over the options' queue. */
  public static SqsSource create(SqsSourceOptions options) {
    return new SqsSource(options);
  }

  /** A source over the queue at {@code queueUrl}, with the default options. */
  public static SqsSource create(SqsAsyncClient client, String queueUrl) {
    return create(SqsSourceOptions.builder().client(client).queueUrl(queueUrl).build());
  }

  public SqsSourceOptions options() {
    return options;
  }

  @Override
  public String toString() {
    return "SqsSource{" + options + "}";
  }

  @Override
  public String name() {
    return "sqs:" + queueName;
  }

  /** See the class documentation. Each subscription receives on its own. */
  @Override
  public Flux<Delivery> receive() {
    return Flux.create(
        sink -> new SqsReceiver(options, queueName, sink).start(),
        FluxSink.OverflowStrategy.BUFFER);
  }
}
