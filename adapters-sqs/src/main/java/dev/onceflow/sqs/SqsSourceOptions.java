package dev.onceflow.sqs;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

/**
 * What an {@link SqsSource} consumes and how. Immutable and thread-safe; build with {@link
 * #builder()}, change with {@link #mutate()}.
 *
 * <p>The client is not owned: the source never closes it.
 */
public final class SqsSourceOptions {

  /** SQS's longest long poll (20 s): the fewest empty receives. */
  public static final Duration DEFAULT_WAIT_TIME = Duration.ofSeconds(20);

  /** The visibility timeout SQS gives a new queue (30 s); sent with every receive. */
  public static final Duration DEFAULT_VISIBILITY_TIMEOUT = Duration.ofSeconds(30);

  /** Messages held unsettled at most: 10 full receives' worth. */
  public static final int DEFAULT_MAX_IN_FLIGHT = 100;

  /**
   * Receive calls in flight at most when demand is high: 4 calls of 10 keep 40 messages coming per
   * round trip, while an idle queue holds only 4 long polls (connections).
   */
  public static final int DEFAULT_MAX_CONCURRENT_RECEIVES = 4;

  /** SQS's largest {@code DeleteMessageBatch} (10 entries). */
  public static final int DEFAULT_DELETE_BATCH_SIZE = 10;

  /** How long an ack waits for its batch to fill: short next to any handler's latency. */
  public static final Duration DEFAULT_DELETE_INTERVAL = Duration.ofMillis(20);

  /** Attempts of one delete entry (the SDK retries each call on top of these). */
  public static final int DEFAULT_DELETE_ATTEMPTS = 3;

  /**
   * Extend a message's visibility once it has been unsettled for half its visibility timeout:
   * leaves the other half for the extension to land.
   */
  public static final double DEFAULT_HEARTBEAT_FRACTION = 0.5;

  /** SQS's longest visibility timeout (12 h). */
  public static final Duration MAX_VISIBILITY = Duration.ofHours(12);

  private final SqsAsyncClient client;
  private final @Nullable String queueUrl;
  private final @Nullable String queueName;
  private final Duration waitTime;
  private final Duration visibilityTimeout;
  private final int maxInFlight;
  private final int maxConcurrentReceives;
  private final List<String> messageAttributeNames;
  private final List<MessageSystemAttributeName> systemAttributeNames;
  private final int deleteBatchSize;
  private final Duration deleteInterval;
  private final int deleteAttempts;
  private final double heartbeatFraction;
  private final Scheduler scheduler;

  private SqsSourceOptions(Builder b) {
    this.client = Objects.requireNonNull(b.client, "`client` must be set");
    if ((b.queueUrl == null) == (b.queueName == null)) {
      throw new IllegalArgumentException(
          "exactly one of `queueUrl` and `queueName` must be set, but "
              + (b.queueUrl == null ? "neither was" : "both were"));
    }
    this.queueUrl = b.queueUrl;
    this.queueName = b.queueName;
    this.waitTime = b.waitTime;
    this.visibilityTimeout = b.visibilityTimeout;
    this.maxInFlight = b.maxInFlight;
    this.maxConcurrentReceives = b.maxConcurrentReceives;
    this.messageAttributeNames = List.copyOf(b.messageAttributeNames);
    this.systemAttributeNames = List.copyOf(b.systemAttributeNames);
    this.deleteBatchSize = b.deleteBatchSize;
    this.deleteInterval = b.deleteInterval;
    this.deleteAttempts = b.deleteAttempts;
    this.heartbeatFraction = b.heartbeatFraction;
    this.scheduler = b.scheduler;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from these options. */
  public Builder mutate() {
    Builder b = new Builder();
    b.client = client;
    b.queueUrl = queueUrl;
    b.queueName = queueName;
    b.waitTime = waitTime;
    b.visibilityTimeout = visibilityTimeout;
    b.maxInFlight = maxInFlight;
    b.maxConcurrentReceives = maxConcurrentReceives;
    b.messageAttributeNames = new ArrayList<>(messageAttributeNames);
    b.systemAttributeNames = new ArrayList<>(systemAttributeNames);
    b.deleteBatchSize = deleteBatchSize;
    b.deleteInterval = deleteInterval;
    b.deleteAttempts = deleteAttempts;
    b.heartbeatFraction = heartbeatFraction;
    b.scheduler = scheduler;
    return b;
  }

  public SqsAsyncClient client() {
    return client;
  }

  /** The queue URL, or null when the queue is given by name (resolved at subscription). */
  public @Nullable String queueUrl() {
    return queueUrl;
  }

  /** The queue name, or null when the queue is given by URL. */
  public @Nullable String queueName() {
    return queueName;
  }

  public Duration waitTime() {
    return waitTime;
  }

  public Duration visibilityTimeout() {
    return visibilityTimeout;
  }

  public int maxInFlight() {
    return maxInFlight;
  }

  public int maxConcurrentReceives() {
    return maxConcurrentReceives;
  }

  /** The message attribute names to fetch ({@code All} by default). */
  public List<String> messageAttributeNames() {
    return messageAttributeNames;
  }

  /** The system attributes to fetch beyond those the source always fetches. */
  public List<MessageSystemAttributeName> systemAttributeNames() {
    return systemAttributeNames;
  }

  public int deleteBatchSize() {
    return deleteBatchSize;
  }

  public Duration deleteInterval() {
    return deleteInterval;
  }

  public int deleteAttempts() {
    return deleteAttempts;
  }

  public double heartbeatFraction() {
    return heartbeatFraction;
  }

  /** The scheduler of the source's timers (delete flushes, heartbeats, receive backoff). */
  public Scheduler scheduler() {
    return scheduler;
  }

  /** Builds {@link SqsSourceOptions}. Not thread-safe. Each setter validates at once. */
  public static final class Builder {
    private @Nullable SqsAsyncClient client;
    private @Nullable String queueUrl;
    private @Nullable String queueName;
    private Duration waitTime = DEFAULT_WAIT_TIME;
    private Duration visibilityTimeout = DEFAULT_VISIBILITY_TIMEOUT;
    private int maxInFlight = DEFAULT_MAX_IN_FLIGHT;
    private int maxConcurrentReceives = DEFAULT_MAX_CONCURRENT_RECEIVES;
    private List<String> messageAttributeNames = new ArrayList<>(List.of("All"));
    private List<MessageSystemAttributeName> systemAttributeNames = new ArrayList<>();
    private int deleteBatchSize = DEFAULT_DELETE_BATCH_SIZE;
    private Duration deleteInterval = DEFAULT_DELETE_INTERVAL;
    private int deleteAttempts = DEFAULT_DELETE_ATTEMPTS;
    private double heartbeatFraction = DEFAULT_HEARTBEAT_FRACTION;
    private Scheduler scheduler = Schedulers.parallel();

    private Builder() {}

    /** The client to call SQS with. Required. The source does not close it. */
    public Builder client(SqsAsyncClient client) {
      this.client = Objects.requireNonNull(client, "client");
      return this;
    }

    /** The queue, by URL. Exactly one of this and {@link #queueName(String)} is required. */
    public Builder queueUrl(String queueUrl) {
      Objects.requireNonNull(queueUrl, "queueUrl");
      if (queueUrl.isBlank()) {
        throw new IllegalArgumentException("`queueUrl` must not be blank");
      }
      this.queueUrl = queueUrl;
      return this;
    }

    /** The queue, by name: its URL is looked up ({@code GetQueueUrl}) at each subscription. */
    public Builder queueName(String queueName) {
      Objects.requireNonNull(queueName, "queueName");
      if (queueName.isBlank()) {
        throw new IllegalArgumentException("`queueName` must not be blank");
      }
      this.queueName = queueName;
      return this;
    }

    /** The long-poll wait of each receive, 0 to 20 s in whole seconds. */
    public Builder waitTime(Duration waitTime) {
      Objects.requireNonNull(waitTime, "waitTime");
      if (waitTime.isNegative() || waitTime.compareTo(Duration.ofSeconds(20)) > 0) {
        throw new IllegalArgumentException(
            "`waitTime` must be between 0 and 20 seconds, but was " + waitTime);
      }
      this.waitTime = waitTime;
      return this;
    }

    /**
     * The visibility timeout asked for with each receive, and renewed by the heartbeat: 1 s to 12
     * h, in whole seconds.
     */
    public Builder visibilityTimeout(Duration visibilityTimeout) {
      Objects.requireNonNull(visibilityTimeout, "visibilityTimeout");
      if (visibilityTimeout.compareTo(Duration.ofSeconds(1)) < 0
          || visibilityTimeout.compareTo(MAX_VISIBILITY) > 0) {
        throw new IllegalArgumentException(
            "`visibilityTimeout` must be between 1 second and 12 hours, but was "
                + visibilityTimeout);
      }
      this.visibilityTimeout = visibilityTimeout;
      return this;
    }

    /** The most messages received and not yet settled at once (whatever downstream asks). */
    public Builder maxInFlight(int maxInFlight) {
      if (maxInFlight <= 0) {
        throw new IllegalArgumentException(
            "`maxInFlight` must be positive, but was " + maxInFlight);
      }
      this.maxInFlight = maxInFlight;
      return this;
    }

    /** The most receive calls in flight at once. */
    public Builder maxConcurrentReceives(int maxConcurrentReceives) {
      if (maxConcurrentReceives <= 0) {
        throw new IllegalArgumentException(
            "`maxConcurrentReceives` must be positive, but was " + maxConcurrentReceives);
      }
      this.maxConcurrentReceives = maxConcurrentReceives;
      return this;
    }

    /**
     * The message attributes to fetch (SQS {@code MessageAttributeNames}; {@code All} by default,
     * {@code prefix.*} allowed). The convention attributes and {@code onceflow-headers} are always
     * fetched on top of these.
     */
    public Builder messageAttributeNames(List<String> names) {
      Objects.requireNonNull(names, "messageAttributeNames");
      if (names.isEmpty()) {
        throw new IllegalArgumentException(
            "`messageAttributeNames` must not be empty (use List.of(\"All\") for every one)");
      }
      names.forEach(n -> Objects.requireNonNull(n, "messageAttributeNames element"));
      this.messageAttributeNames = new ArrayList<>(names);
      return this;
    }

    /**
     * System attributes to fetch and expose as headers named {@code sqs-<Name>} (e.g. {@code
     * sqs-SentTimestamp}). {@code ApproximateReceiveCount} and {@code MessageGroupId} are always
     * fetched (for the origin and the entity key) and need not be listed.
     */
    public Builder systemAttributeNames(List<MessageSystemAttributeName> names) {
      Objects.requireNonNull(names, "systemAttributeNames");
      names.forEach(n -> Objects.requireNonNull(n, "systemAttributeNames element"));
      this.systemAttributeNames = new ArrayList<>(new LinkedHashSet<>(names));
      return this;
    }

    /** Deletes per {@code DeleteMessageBatch}: 1 to 10. */
    public Builder deleteBatchSize(int deleteBatchSize) {
      if (deleteBatchSize < 1 || deleteBatchSize > 10) {
        throw new IllegalArgumentException(
            "`deleteBatchSize` must be between 1 and 10, but was " + deleteBatchSize);
      }
      this.deleteBatchSize = deleteBatchSize;
      return this;
    }

    /** The longest an ack waits for its batch to fill before the batch is sent anyway. */
    public Builder deleteInterval(Duration deleteInterval) {
      Objects.requireNonNull(deleteInterval, "deleteInterval");
      if (deleteInterval.isNegative()) {
        throw new IllegalArgumentException(
            "`deleteInterval` must not be negative, but was " + deleteInterval);
      }
      this.deleteInterval = deleteInterval;
      return this;
    }

    /** Attempts of one delete before its ack fails. */
    public Builder deleteAttempts(int deleteAttempts) {
      if (deleteAttempts <= 0) {
        throw new IllegalArgumentException(
            "`deleteAttempts` must be positive, but was " + deleteAttempts);
      }
      this.deleteAttempts = deleteAttempts;
      return this;
    }

    /**
     * The fraction of the visibility timeout after which an unsettled message's visibility is
     * extended by another visibility timeout: strictly between 0 and 1.
     */
    public Builder heartbeatFraction(double heartbeatFraction) {
      if (!(heartbeatFraction > 0 && heartbeatFraction < 1)) {
        throw new IllegalArgumentException(
            "`heartbeatFraction` must be greater than 0 and lower than 1, but was "
                + heartbeatFraction);
      }
      this.heartbeatFraction = heartbeatFraction;
      return this;
    }

    /** The scheduler for the source's timers; {@code Schedulers.parallel()} by default. */
    public Builder scheduler(Scheduler scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    /**
     * @throws IllegalArgumentException if no client or not exactly one of queue URL and name was
     *     set
     */
    public SqsSourceOptions build() {
      if (client == null) {
        throw new IllegalArgumentException("`client` must be set");
      }
      return new SqsSourceOptions(this);
    }
  }

  /** The attribute names a receive asks for: the user's plus those the source needs. */
  List<String> effectiveMessageAttributeNames(List<String> required) {
    if (messageAttributeNames.stream().anyMatch(n -> n.equalsIgnoreCase("All") || n.equals(".*"))) {
      return messageAttributeNames;
    }
    Set<String> names = new LinkedHashSet<>(messageAttributeNames);
    names.addAll(required);
    return List.copyOf(names);
  }
}
