package dev.onceflow.sqs;

import dev.onceflow.core.Check;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;

/**
 * What the options of an SQS component bound to one queue share (a source, a dead-letter sink): the
 * client and the queue, by URL or by name.
 */
abstract class SqsQueueOptions {

  private final SqsAsyncClient client;
  private final @Nullable String queueUrl;
  private final @Nullable String queueName;

  SqsQueueOptions(Builder<?> b) {
    this.client = Objects.requireNonNull(b.client);
    this.queueUrl = b.queueUrl;
    this.queueName = b.queueName;
  }

  /** The client to call SQS with; never closed by the component. */
  public SqsAsyncClient client() {
    return client;
  }

  /** The queue URL, or null when the queue is given by name. */
  public @Nullable String queueUrl() {
    return queueUrl;
  }

  /** The queue name, or null when the queue is given by URL. */
  public @Nullable String queueName() {
    return queueName;
  }

  /** The queue URL if given, else its name: log-safe. */
  String queue() {
    return queueUrl != null ? queueUrl : Objects.requireNonNull(queueName);
  }

  /** The setters the builders share. Each validates at once. */
  abstract static class Builder<B extends Builder<B>> {
    private @Nullable SqsAsyncClient client;
    private @Nullable String queueUrl;
    private @Nullable String queueName;

    Builder() {}

    @SuppressWarnings("unchecked")
    final B self() {
      return (B) this;
    }

    /** The client to call SQS with. Required; the component does not close it. */
    public B client(SqsAsyncClient client) {
      this.client = Check.notNull(client, "client");
      return self();
    }

    /** The queue, by URL. Exactly one of this and {@link #queueName(String)} is required. */
    public B queueUrl(String queueUrl) {
      this.queueUrl = Check.notBlank(queueUrl, "queueUrl");
      return self();
    }

    /**
     * The queue, by name: its URL is looked up ({@code GetQueueUrl}) when the component starts
     * (each subscription of a source, the first use of a dead-letter sink).
     */
    public B queueName(String queueName) {
      this.queueName = Check.notBlank(queueName, "queueName");
      return self();
    }

    /** Starts from the values of {@code o}. */
    final void from(SqsQueueOptions o) {
      this.client = o.client;
      this.queueUrl = o.queueUrl;
      this.queueName = o.queueName;
    }

    /** Checks that the client and exactly one of queue URL and name are set. */
    final void checkQueue() {
      Check.required(client, "client", "the SqsAsyncClient to call SQS with");
      Check.exactlyOne("queueUrl", queueUrl != null, "queueName", queueName != null);
    }
  }
}
