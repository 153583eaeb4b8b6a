package dev.onceflow.sqs;

import dev.onceflow.core.Check;

/**
 * Where and how an {@link SqsDeadLetter} sends dead letters: the client, the dead-letter queue (by
 * URL or by name), the attempts per dead letter, and whether a missing queue may be created.
 * Immutable and thread-safe; build one with {@link #builder()}, change one with {@link #mutate()}.
 *
 * <p>The client is not owned: the sink never closes it. A queue whose name ends in {@code .fifo} is
 * a FIFO queue (SQS requires that of FIFO queue names).
 */
public final class SqsDeadLetterOptions extends SqsQueueOptions {

  /** Default attempts of one dead letter: {@link SqsPublisherOptions#DEFAULT_SEND_ATTEMPTS}. */
  public static final int DEFAULT_SEND_ATTEMPTS = SqsPublisherOptions.DEFAULT_SEND_ATTEMPTS;

  /**
   * Default for creating a missing dead-letter queue: false. Queues are the operator's (retention,
   * encryption, access policy); a missing one fails {@link SqsDeadLetter#ready()} with its name.
   */
  public static final boolean DEFAULT_CREATE_QUEUE = false;

  private final int sendAttempts;
  private final boolean createQueue;

  private SqsDeadLetterOptions(Builder b) {
    super(b);
    this.sendAttempts = b.sendAttempts;
    this.createQueue = b.createQueue;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from these options. */
  public Builder mutate() {
    Builder b = new Builder();
    b.from(this);
    b.sendAttempts = sendAttempts;
    b.createQueue = createQueue;
    return b;
  }

  /** Attempts of one dead letter before its publish fails. */
  public int sendAttempts() {
    return sendAttempts;
  }

  /** Whether {@link SqsDeadLetter#ready()} creates the queue when it is missing. */
  public boolean createQueue() {
    return createQueue;
  }

  @Override
  public String toString() {
    return "SqsDeadLetterOptions{queue=" + queue() + ", createQueue=" + createQueue + "}";
  }

  /** Builds {@link SqsDeadLetterOptions}. Each setter validates at once. Not thread-safe. */
  public static final class Builder extends SqsQueueOptions.Builder<Builder> {
    private int sendAttempts = DEFAULT_SEND_ATTEMPTS;
    private boolean createQueue = DEFAULT_CREATE_QUEUE;

    private Builder() {}

    /**
     * Attempts of one dead letter before its publish fails. Default {@link #DEFAULT_SEND_ATTEMPTS}.
     */
    public Builder sendAttempts(int sendAttempts) {
      this.sendAttempts = Check.positive(sendAttempts, "sendAttempts");
      return this;
    }

    /**
     * Whether {@link SqsDeadLetter#ready()} creates the queue when it is missing (a FIFO queue when
     * its name ends in {@code .fifo}; SQS defaults otherwise). Default {@link
     * #DEFAULT_CREATE_QUEUE}.
     */
    public Builder createQueue(boolean createQueue) {
      this.createQueue = createQueue;
      return this;
    }

    /**
     * Builds the options.
     *
     * @throws IllegalArgumentException when the client is missing or not exactly one of queue URL
     *     and name is set
     */
    public SqsDeadLetterOptions build() {
      checkQueue();
      return new SqsDeadLetterOptions(this);
    }
  }
}
