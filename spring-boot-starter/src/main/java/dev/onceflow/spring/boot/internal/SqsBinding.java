package dev.onceflow.spring.boot.internal;

import dev.onceflow.core.MessageSource;
import dev.onceflow.deadletter.DeadLetterSink;
import dev.onceflow.spring.boot.OnceflowConfigurationException;
import dev.onceflow.spring.boot.OnceflowProperties;
import dev.onceflow.sqs.SqsDeadLetter;
import dev.onceflow.sqs.SqsSource;
import dev.onceflow.sqs.SqsSourceOptions;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;

/**
 * SQS pipelines: an {@link SqsSource} per queue and a dead-letter queue, over the application's
 * {@code SqsAsyncClient} or one built from {@code onceflow.sqs.*}. Queue names are resolved to URLs
 * at startup (a blocking call, made while the context starts).
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
    String url = url(property, queue);
    Duration visibility = sqs.getVisibilityTimeout();
    SqsSourceOptions options =
        Properties.check(
            "onceflow.sqs.visibility-timeout",
            visibility,
            "Set a visibility timeout between 1 s and 12 h.",
            () ->
                SqsSourceOptions.builder()
                    .client(client())
                    .queueUrl(url)
                    .visibilityTimeout(visibility)
                    .maxInFlight(
                        Math.max(p.getConcurrency(), SqsSourceOptions.DEFAULT_MAX_IN_FLIGHT))
                    .build());
    return SqsSource.create(options);
  }

  @Override
  public DeadLetterSink deadLetter(String name, OnceflowProperties.Pipeline p) {
    String property = Properties.pipeline(name, "dead-letter");
    String queue = p.getDeadLetter() != null ? p.getDeadLetter() : p.getDestination() + "-dlq";
    return SqsDeadLetter.create(client(), url(property, queue));
  }

  private String url(String property, String queue) {
    if (queue.startsWith("http://") || queue.startsWith("https://")) {
      return queue;
    }
    try {
      return client().getQueueUrl(r -> r.queueName(queue)).join().queueUrl();
    } catch (CompletionException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      throw new OnceflowConfigurationException(
          property,
          queue,
          "must name an existing SQS queue (" + cause.getMessage() + ")",
          "Create the queue, or set its URL.",
          cause);
    }
  }
}
