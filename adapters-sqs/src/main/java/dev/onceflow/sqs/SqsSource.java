package dev.onceflow.sqs;

import dev.onceflow.core.BrokerKind;
import dev.onceflow.core.Delivery;
import dev.onceflow.core.Envelope;
import dev.onceflow.core.HeaderConvention;
import dev.onceflow.core.MessageSource;
import dev.onceflow.core.Origin;
import dev.onceflow.sqs.internal.SqsCodec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

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
 * HeaderConvention#apply}; the entity key falls back to the FIFO {@code MessageGroupId} when no
 * {@code onceflow-key} header is present. System attributes listed in {@link
 * SqsSourceOptions#systemAttributeNames()} appear as {@code sqs-<Name>} headers. The origin is
 * {@code (SQS, queue name, -1, -1, SQS message id, receipt handle, receiveCount > 1, receiveCount)}
 * with receiveCount SQS's {@code ApproximateReceiveCount}.
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
    this.queueName = url != null ? queueNameOf(url) : Objects.requireNonNull(options.queueName());
  }

  /** A source over the options' queue. */
  public static SqsSource create(SqsSourceOptions options) {
    return new SqsSource(options);
  }

  public SqsSourceOptions options() {
    return options;
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

  /** The queue name of a queue URL: its last path segment. */
  static String queueNameOf(String queueUrl) {
    String u = queueUrl.endsWith("/") ? queueUrl.substring(0, queueUrl.length() - 1) : queueUrl;
    int slash = u.lastIndexOf('/');
    return slash >= 0 ? u.substring(slash + 1) : u;
  }

  /** Maps an SQS message to an envelope; never throws on bad attributes. */
  static Envelope toEnvelope(
      Message m, String queueName, List<MessageSystemAttributeName> exposedSystemAttributes) {
    List<String> problems = new ArrayList<>();
    Map<String, String> headers = SqsCodec.toHeaders(m.messageAttributes(), problems);
    boolean base64 = SqsCodec.BASE64.equalsIgnoreCase(headers.remove(SqsCodec.BODY_ENCODING));
    Map<MessageSystemAttributeName, String> system = m.attributes();
    for (MessageSystemAttributeName name : exposedSystemAttributes) {
      String v = system.get(name);
      if (v != null) {
        headers.put("sqs-" + name, v);
      }
    }
    byte[] payload;
    try {
      payload = SqsCodec.fromBody(m.body(), base64);
    } catch (IllegalArgumentException e) {
      problems.add("the body is marked base64 but is not: " + e.getMessage());
      payload = SqsCodec.fromBody(m.body(), false);
    }
    int receiveCount = 0;
    String rc = system.get(MessageSystemAttributeName.APPROXIMATE_RECEIVE_COUNT);
    if (rc != null) {
      try {
        receiveCount = Math.max(0, Integer.parseInt(rc.trim()));
      } catch (NumberFormatException e) {
        receiveCount = 0;
      }
    }
    Origin origin =
        new Origin(
            BrokerKind.SQS,
            queueName,
            -1,
            -1,
            m.messageId(),
            m.receiptHandle(),
            receiveCount > 1,
            receiveCount);
    Envelope.Builder b = Envelope.builder().payloadUnsafe(payload).origin(origin);
    HeaderConvention.apply(b, headers);
    String group = system.get(MessageSystemAttributeName.MESSAGE_GROUP_ID);
    if (headers.get(HeaderConvention.ENTITY_KEY) == null && group != null) {
      b.entityKey(group);
    }
    Envelope e = b.build();
    if (problems.isEmpty()) {
      return e;
    }
    String mine = String.join("; ", problems);
    String theirs = e.malformation();
    return e.toBuilder().malformation(theirs == null ? mine : theirs + "; " + mine).build();
  }

  /** The cause inside the SDK's future wrappers. */
  static Throwable unwrap(Throwable t) {
    Throwable c = t;
    while ((c instanceof CompletionException || c instanceof ExecutionException)
        && c.getCause() != null) {
      c = c.getCause();
    }
    return c;
  }

  /** A log-safe one-line description of an error and its root cause. */
  static String describe(Throwable t) {
    Throwable root = t;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root == t ? t.toString() : t + " (caused by " + root + ")";
  }

  /** Whether SQS blamed the request: retrying it unchanged cannot help. */
  static boolean isSenderFault(Throwable t) {
    if (t instanceof CancellationException) {
      return false;
    }
    if (t instanceof AwsServiceException e) {
      int status = e.statusCode();
      return status >= 400
          && status < 500
          && status != 408
          && status != 429
          && !e.isThrottlingException();
    }
    return false;
  }

  static @Nullable String errorCode(Throwable t) {
    if (t instanceof AwsServiceException e && e.awsErrorDetails() != null) {
      return e.awsErrorDetails().errorCode();
    }
    return null;
  }

  /** Whole seconds for a duration, rounded up and capped at SQS's 12 hours. */
  static int visibilitySeconds(Duration d) {
    if (d.compareTo(SqsSourceOptions.MAX_VISIBILITY) >= 0) {
      return (int) SqsSourceOptions.MAX_VISIBILITY.toSeconds();
    }
    long ms = Math.max(0, d.toMillis());
    long s = (ms + 999) / 1000;
    return (int) Math.min(s, SqsSourceOptions.MAX_VISIBILITY.toSeconds());
  }
}
