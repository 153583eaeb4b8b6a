package dev.onceflow.sqs;

import dev.onceflow.core.Check;
import dev.onceflow.core.Envelope;
import dev.onceflow.core.HeaderConvention;
import dev.onceflow.deadletter.DeadLetter;
import dev.onceflow.deadletter.DeadLetterSink;
import dev.onceflow.sqs.internal.SqsCodec;
import dev.onceflow.sqs.internal.SqsErrors;
import dev.onceflow.sqs.internal.SqsMessages;
import dev.onceflow.sqs.internal.SqsSender;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;
import software.amazon.awssdk.services.sqs.model.CreateQueueRequest;
import software.amazon.awssdk.services.sqs.model.GetQueueAttributesRequest;
import software.amazon.awssdk.services.sqs.model.GetQueueUrlRequest;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

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
 * <p>{@link #ready()} checks that the queue exists ({@code GetQueueUrl} or {@code
 * GetQueueAttributes}), creating it when {@link SqsDeadLetterOptions#createQueue()} allows, so that
 * a missing queue fails the pipeline at start with its name.
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

  private static final Logger log = LoggerFactory.getLogger(SqsDeadLetter.class);

  private final SqsDeadLetterOptions options;
  private final String queueName;
  private final boolean fifo;
  private volatile @Nullable String queueUrl;

  private SqsDeadLetter(SqsDeadLetterOptions options) {
    this.options = options;
    String url = options.queueUrl();
    this.queueUrl = url;
    this.queueName =
        url != null ? SqsMessages.queueNameOf(url) : Objects.requireNonNull(options.queueName());
    this.fifo = SqsMessages.isFifo(queueName);
  }

  /** A sink with these options. */
  public static SqsDeadLetter create(SqsDeadLetterOptions options) {
    return new SqsDeadLetter(Objects.requireNonNull(options, "options"));
  }

  /**
   * A sink to the queue at {@code queueUrl} (FIFO when its name ends in {@code .fifo}), with the
   * default options: the queue must exist.
   */
  public static SqsDeadLetter create(SqsAsyncClient client, String queueUrl) {
    return create(SqsDeadLetterOptions.builder().client(client).queueUrl(queueUrl).build());
  }

  /** The options of this sink. */
  public SqsDeadLetterOptions options() {
    return options;
  }

  /** The value of a source queue's {@code RedrivePolicy} attribute (JSON). */
  public static String redrivePolicy(String deadLetterQueueArn, int maxReceiveCount) {
    Objects.requireNonNull(deadLetterQueueArn, "deadLetterQueueArn");
    Check.between(maxReceiveCount, 1, 1000, "maxReceiveCount");
    return "{\"deadLetterTargetArn\":\""
        + deadLetterQueueArn.replace("\\", "\\\\").replace("\"", "\\\"")
        + "\",\"maxReceiveCount\":\""
        + maxReceiveCount
        + "\"}";
  }

  /**
   * Completes when the dead-letter queue exists: {@code GetQueueAttributes} on its URL, or {@code
   * GetQueueUrl} of its name. A missing queue is created ({@code CreateQueue}) when {@link
   * SqsDeadLetterOptions#createQueue()} is set, and otherwise fails with an {@link
   * SqsOperationException} naming it; other failures (access, network) fail likewise. Each
   * subscription checks again.
   */
  @Override
  public Mono<Void> ready() {
    return Mono.defer(
        () -> {
          String url = options.queueUrl();
          Mono<String> check =
              url != null
                  ? Mono.fromFuture(
                          () ->
                              options
                                  .client()
                                  .getQueueAttributes(
                                      GetQueueAttributesRequest.builder()
                                          .queueUrl(url)
                                          .attributeNames(QueueAttributeName.QUEUE_ARN)
                                          .build()))
                      .thenReturn(url)
                  : lookUp();
          return check
              .onErrorResume(
                  e -> SqsErrors.isMissingQueue(SqsErrors.unwrap(e)),
                  e -> {
                    if (!options.createQueue()) {
                      return Mono.error(
                          new SqsOperationException(
                              SqsOperationException.CHECK_QUEUE,
                              queueName,
                              null,
                              SqsErrors.errorCode(SqsErrors.unwrap(e)),
                              true,
                              "the queue does not exist: create it, or allow onceflow to create"
                                  + " it (createQueue(true))",
                              SqsErrors.unwrap(e)));
                    }
                    return createQueue();
                  })
              .onErrorMap(
                  e -> SqsErrors.failure(SqsOperationException.CHECK_QUEUE, queueName, null, e))
              .doOnNext(u -> queueUrl = u)
              .then();
        });
  }

  private Mono<String> lookUp() {
    return Mono.fromFuture(
            () ->
                options
                    .client()
                    .getQueueUrl(GetQueueUrlRequest.builder().queueName(queueName).build()))
        .map(r -> r.queueUrl());
  }

  private Mono<String> createQueue() {
    CreateQueueRequest.Builder request = CreateQueueRequest.builder().queueName(queueName);
    if (fifo) {
      request.attributes(Map.of(QueueAttributeName.FIFO_QUEUE, "true"));
    }
    return Mono.fromFuture(() -> options.client().createQueue(request.build()))
        .map(r -> r.queueUrl())
        .doOnNext(u -> log.info("created SQS queue '{}'", queueName))
        .onErrorMap(e -> SqsErrors.failure(SqsOperationException.CREATE_QUEUE, queueName, null, e));
  }

  /** The queue URL: given, found by {@link #ready()}, or looked up now (and kept). */
  private Mono<String> url() {
    String known = queueUrl;
    if (known != null) {
      return Mono.just(known);
    }
    return lookUp()
        .onErrorMap(e -> SqsErrors.failure(SqsOperationException.GET_QUEUE_URL, queueName, null, e))
        .doOnNext(u -> queueUrl = u);
  }

  @Override
  public Mono<Void> publish(DeadLetter deadLetter) {
    Objects.requireNonNull(deadLetter, "deadLetter");
    return Mono.defer(
        () ->
            url()
                .flatMap(
                    u ->
                        new SqsSender(options.client(), u, options.sendAttempts())
                            .send(outgoing(deadLetter)))
                .then());
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

  @Override
  public String toString() {
    return "SqsDeadLetter{" + queueName + "}";
  }
}
