package dev.onceflow.sqs;

import dev.onceflow.core.Check;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;

/**
 * How an {@link SqsPublisher} sends: the client, the attempts per message and the batch concurrency
 * of {@link SqsPublisher#publishAll}. Immutable and thread-safe; build one with {@link #builder()},
 * change one with {@link #mutate()}.
 *
 * <p>The client is not owned: the publisher never closes it.
 */
public final class SqsPublisherOptions {

  /**
   * Default attempts of one message: 3. The SDK retries each call on top of these (its standard
   * mode: 3 attempts), so a message is sent up to 9 times before its publish fails.
   */
  public static final int DEFAULT_SEND_ATTEMPTS = 3;

  /**
   * Default {@code SendMessageBatch} calls in flight at once in {@link SqsPublisher#publishAll} on
   * a standard queue: 4, like {@link SqsSourceOptions#DEFAULT_MAX_CONCURRENT_RECEIVES}. FIFO queues
   * always send one batch at a time, to keep the order.
   */
  public static final int DEFAULT_BATCH_CONCURRENCY = 4;

  private final SqsAsyncClient client;
  private final int sendAttempts;
  private final int batchConcurrency;

  private SqsPublisherOptions(Builder b) {
    this.client = java.util.Objects.requireNonNull(b.client);
    this.sendAttempts = b.sendAttempts;
    this.batchConcurrency = b.batchConcurrency;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from these options. */
  public Builder mutate() {
    Builder b = new Builder();
    b.client = client;
    b.sendAttempts = sendAttempts;
    b.batchConcurrency = batchConcurrency;
    return b;
  }

  /** The client to send with; not closed by the publisher. */
  public SqsAsyncClient client() {
    return client;
  }

  /** Attempts of one message before its publish fails. */
  public int sendAttempts() {
    return sendAttempts;
  }

  /** Batch calls in flight at once in {@code publishAll} on a standard queue. */
  public int batchConcurrency() {
    return batchConcurrency;
  }

  @Override
  public String toString() {
    return "SqsPublisherOptions{sendAttempts="
        + sendAttempts
        + ", batchConcurrency="
        + batchConcurrency
        + "}";
  }

  /** Builds {@link SqsPublisherOptions}. Each setter validates at once. Not thread-safe. */
  public static final class Builder {
    private @Nullable SqsAsyncClient client;
    private int sendAttempts = DEFAULT_SEND_ATTEMPTS;
    private int batchConcurrency = DEFAULT_BATCH_CONCURRENCY;

    private Builder() {}

    /** The client to send with. Required; not closed by the publisher. */
    public Builder client(SqsAsyncClient client) {
      this.client = Check.notNull(client, "client");
      return this;
    }

    /** Attempts of one message before its publish fails. Default {@link #DEFAULT_SEND_ATTEMPTS}. */
    public Builder sendAttempts(int sendAttempts) {
      this.sendAttempts = Check.positive(sendAttempts, "sendAttempts");
      return this;
    }

    /**
     * Batch calls in flight at once in {@code publishAll} on a standard queue. Default {@link
     * #DEFAULT_BATCH_CONCURRENCY}.
     */
    public Builder batchConcurrency(int batchConcurrency) {
      this.batchConcurrency = Check.positive(batchConcurrency, "batchConcurrency");
      return this;
    }

    /**
     * Builds the options.
     *
     * @throws IllegalArgumentException when the client is missing
     */
    public SqsPublisherOptions build() {
      Check.required(client, "client", "the SqsAsyncClient to send with");
      return new SqsPublisherOptions(this);
    }
  }
}
