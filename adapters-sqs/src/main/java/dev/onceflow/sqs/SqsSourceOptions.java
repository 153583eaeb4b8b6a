package dev.onceflow.sqs;

import dev.onceflow.core.Check;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

/**
 * What an {@link SqsSource} consumes and how. Immutable and thread-safe; build with {@link
 * #builder()}, change with {@link #mutate()}.
 *
 * <p>The client is not owned: the source never closes it.
 */
public final class SqsSourceOptions extends SqsQueueOptions {

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

  /** SQS's longest long poll (20 s). */
  public static final Duration MAX_WAIT_TIME = Duration.ofSeconds(20);

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
  private final @Nullable String idHeader;

  private SqsSourceOptions(Builder b) {
    super(b);
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
    this.idHeader = b.idHeader;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from these options. */
  public Builder mutate() {
    Builder b = new Builder();
    b.from(this);
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
    b.idHeader = idHeader;
    return b;
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

  /**
   * The message attribute that carries the message id before {@code onceflow-id}, or null; see
   * {@link dev.onceflow.core.HeaderConvention#messageId}.
   */
  public @Nullable String idHeader() {
    return idHeader;
  }

  @Override
  public String toString() {
    return "SqsSourceOptions{queue="
        + queue()
        + ", maxInFlight="
        + maxInFlight
        + ", visibilityTimeout="
        + visibilityTimeout
        + (idHeader == null ? "" : ", idHeader=" + idHeader)
        + "}";
  }

  /** Builds {@link SqsSourceOptions}. Not thread-safe. Each setter validates at once. */
  public static final class Builder extends SqsQueueOptions.Builder<Builder> {
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
    private @Nullable String idHeader;

    private Builder() {}

    /** The long-poll wait of each receive, 0 to 20 s in whole seconds. */
    public Builder waitTime(Duration waitTime) {
      this.waitTime = Check.between(waitTime, Duration.ZERO, MAX_WAIT_TIME, "waitTime");
      return this;
    }

    /**
     * The visibility timeout asked for with each receive, and renewed by the heartbeat: 1 s to 12
     * h, in whole seconds.
     */
    public Builder visibilityTimeout(Duration visibilityTimeout) {
      this.visibilityTimeout =
          Check.between(
              visibilityTimeout, Duration.ofSeconds(1), MAX_VISIBILITY, "visibilityTimeout");
      return this;
    }

    /** The most messages received and not yet settled at once (whatever downstream asks). */
    public Builder maxInFlight(int maxInFlight) {
      this.maxInFlight = Check.positive(maxInFlight, "maxInFlight");
      return this;
    }

    /** The most receive calls in flight at once. */
    public Builder maxConcurrentReceives(int maxConcurrentReceives) {
      this.maxConcurrentReceives = Check.positive(maxConcurrentReceives, "maxConcurrentReceives");
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
      this.deleteBatchSize = Check.between(deleteBatchSize, 1, 10, "deleteBatchSize");
      return this;
    }

    /** The longest an ack waits for its batch to fill before the batch is sent anyway. */
    public Builder deleteInterval(Duration deleteInterval) {
      this.deleteInterval = Check.notNegative(deleteInterval, "deleteInterval");
      return this;
    }

    /** Attempts of one delete before its ack fails. */
    public Builder deleteAttempts(int deleteAttempts) {
      this.deleteAttempts = Check.positive(deleteAttempts, "deleteAttempts");
      return this;
    }

    /**
     * The fraction of the visibility timeout after which an unsettled message's visibility is
     * extended by another visibility timeout: strictly between 0 and 1.
     */
    public Builder heartbeatFraction(double heartbeatFraction) {
      this.heartbeatFraction = Check.fraction(heartbeatFraction, "heartbeatFraction");
      return this;
    }

    /** The scheduler for the source's timers; {@code Schedulers.parallel()} by default. */
    public Builder scheduler(Scheduler scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    /**
     * The message attribute that carries the message id of producers that are not onceflow, such as
     * {@code X-Message-Id}: it is read before {@code onceflow-id} and the CloudEvents {@code ce-id}
     * / {@code ce_id}, which are recognised without it. Default: none.
     */
    public Builder idHeader(String idHeader) {
      this.idHeader = Check.notBlank(idHeader, "idHeader");
      return this;
    }

    /**
     * Builds the options.
     *
     * @throws IllegalArgumentException if no client or not exactly one of queue URL and name was
     *     set
     */
    public SqsSourceOptions build() {
      checkQueue();
      return new SqsSourceOptions(this);
    }
  }
}
