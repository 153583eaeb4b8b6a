package dev.onceflow.spring.boot.internal;

import dev.onceflow.core.MessageSource;
import dev.onceflow.deadletter.DeadLetterSink;
import dev.onceflow.spring.boot.OnceflowProperties;
import dev.onceflow.sqs.SqsDeadLetter;
import dev.onceflow.sqs.SqsDeadLetterOptions;
import dev.onceflow.sqs.SqsSource;
import dev.onceflow.sqs.SqsSourceOptions;
import java.time.Duration;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;

/**
 * SQS pipelines: an {@link SqsSource} per queue and a dead-letter queue (URLs or names), over the
 * application's {@code SqsAsyncClient} or one built from {@code onceflow.sqs.*}.
 */
public final class SqsBinding implements BrokerBinding, AutoCloseable {

  private final OnceflowProperties.Sqs sqs;
  private final Supplier<@Nullable SqsAsyncClient> applicationClient;
  private final Supplier<SqsAsyncClient> ownClient;
  private @Nullable SqsAsyncClient client;
  private boolean owned;

  /**
   * @param applicationClient the application's client, or null when it has none
   * @param ownClient builds a client from the properties; called at most once, when a pipeline
   *     needs one and the application has none; closed with this binding
   */
  public SqsBinding(
      OnceflowProperties.Sqs sqs,
      Supplier<@Nullable SqsAsyncClient> applicationClient,
      Supplier<SqsAsyncClient> ownClient) {
    this.sqs = sqs;
    this.applicationClient = applicationClient;
    this.ownClient = ownClient;
  }

  private synchronized SqsAsyncClient client() {
    SqsAsyncClient c = client;
    if (c == null) {
      c = applicationClient.get();
      if (c == null) {
        c = ownClient.get();
        owned = true;
      }
      client = c;
    }
    return c;
  }

  @Override
  public synchronized void close() {
    SqsAsyncClient c = client;
    if (owned && c != null) {
      c.close();
    }
  }

  @Override
  public OnceflowProperties.Broker broker() {
    return OnceflowProperties.Broker.SQS;
  }

  @Override
  public MessageSource source(String name, OnceflowProperties.Pipeline p) {
    String property = Properties.pipeline(name, "destination");
    String queue = Properties.require(property, p.getDestination(), "a queue URL or name");
    Duration visibility = sqs.getVisibilityTimeout();
    SqsSourceOptions.Builder b = SqsSourceOptions.builder().client(client());
    Properties.check(
        property,
        queue,
        "Set a queue URL or name.",
        () -> isUrl(queue) ? b.queueUrl(queue) : b.queueName(queue));
    Properties.check(
        "onceflow.sqs.visibility-timeout",
        visibility,
        "Set a visibility timeout between 1 s and 12 h.",
        () -> b.visibilityTimeout(visibility));
    String idHeader = p.getIdHeader();
    if (idHeader != null) {
      Properties.check(
          Properties.pipeline(name, "id-header"),
          idHeader,
          "Set a message attribute name.",
          () -> b.idHeader(idHeader));
    }
    b.maxInFlight(Math.max(p.getConcurrency(), SqsSourceOptions.DEFAULT_MAX_IN_FLIGHT));
    return SqsSource.create(b.build());
  }

  @Override
  public DeadLetterSink deadLetter(String name, OnceflowProperties.Pipeline p) {
    String queue = p.getDeadLetter() != null ? p.getDeadLetter() : p.getDestination() + "-dlq";
    SqsDeadLetterOptions.Builder b =
        SqsDeadLetterOptions.builder().client(client()).createQueue(p.isCreateDeadLetter());
    return Properties.check(
        Properties.pipeline(name, "dead-letter"),
        queue,
        "Set a queue URL or name.",
        () ->
            SqsDeadLetter.create((isUrl(queue) ? b.queueUrl(queue) : b.queueName(queue)).build()));
  }

  private static boolean isUrl(String queue) {
    return queue.startsWith("http://") || queue.startsWith("https://");
  }
}
