package dev.onceflow.kafka;

import dev.onceflow.core.Check;
import java.time.Duration;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.jspecify.annotations.Nullable;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.kafka.receiver.ReceiverOptions;

/**
 * How a {@link KafkaSource} consumes: brokers, group, topics (or a pattern), commit cadence and the
 * in-flight bound. Immutable and thread-safe; build one with {@link #builder()}.
 *
 * <p>Records are read as raw bytes (keys and values); decoding is the pipeline's job. Offsets are
 * committed by the source only (auto-commit is always off).
 */
public final class KafkaSourceOptions {

  /**
   * Default bound on records received and not finished: 256, reactor's {@code
   * Queues.SMALL_BUFFER_SIZE}; above the pipeline's default concurrency of 64 so that the pipeline,
   * not the source, sets the pace.
   */
  public static final int DEFAULT_MAX_IN_FLIGHT = 256;

  /**
   * Default bound on records not yet behind their partition's commit position: 4096, 16 times
   * {@link #DEFAULT_MAX_IN_FLIGHT}. A slow early record holds the commit of the records after it;
   * finished ones cost only their offset while they wait, and past this bound the source stops
   * fetching until the early record finishes (a restart would redeliver all of them).
   */
  public static final int DEFAULT_MAX_UNCOMMITTED = 4096;

  /**
   * Default commit interval: 1 s. reactor-kafka's default is 5 s (Kafka's {@code
   * auto.commit.interval.ms}); committing more often means less to redeliver after a crash, at the
   * cost of one small request per second.
   */
  public static final Duration DEFAULT_COMMIT_INTERVAL = Duration.ofSeconds(1);

  /** Default commit batch size: 0, commits follow the interval only (reactor-kafka's default). */
  public static final int DEFAULT_COMMIT_BATCH_SIZE = 0;

  /**
   * Default poll timeout: 50 ms, half of reactor-kafka's 100 ms. reactor-kafka sends a commit on
   * its next poll, so a shorter poll lowers commit latency; idle consumers poll a little more
   * often.
   */
  public static final Duration DEFAULT_POLL_TIMEOUT = Duration.ofMillis(50);

  /**
   * Default close timeout: 10 s to flush the last commit and leave the group. reactor-kafka's
   * default is unbounded.
   */
  public static final Duration DEFAULT_CLOSE_TIMEOUT = Duration.ofSeconds(10);

  /**
   * Default {@code auto.offset.reset}: {@code earliest}, where a group without committed offsets
   * starts. Kafka's own default is {@code latest}; onceflow does not let a new group skip the
   * backlog silently.
   */
  public static final String DEFAULT_AUTO_OFFSET_RESET = "earliest";

  /** The largest {@link Builder#maxInFlight(int)}. */
  public static final int MAX_IN_FLIGHT = 100_000;

  private static final Set<String> MANAGED =
      Set.of(
          ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
          ConsumerConfig.GROUP_ID_CONFIG,
          ConsumerConfig.CLIENT_ID_CONFIG,
          ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
          ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
          ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
          ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG);

  private final String bootstrapServers;
  private final String groupId;
  private final List<String> topics;
  private final @Nullable Pattern pattern;
  private final @Nullable String clientId;
  private final int maxInFlight;
  private final int maxUncommitted;
  private final Duration commitInterval;
  private final int commitBatchSize;
  private final Duration pollTimeout;
  private final Duration closeTimeout;
  private final String autoOffsetReset;
  private final Map<String, Object> consumerProperties;
  private final Scheduler redeliveryScheduler;
  private final @Nullable String idHeader;

  private KafkaSourceOptions(Builder b) {
    this.bootstrapServers = Objects.requireNonNull(b.bootstrapServers);
    this.groupId = Objects.requireNonNull(b.groupId);
    this.topics = List.copyOf(b.topics);
    this.pattern = b.pattern;
    this.clientId = b.clientId;
    this.maxInFlight = b.maxInFlight;
    this.maxUncommitted = b.maxUncommitted;
    this.commitInterval = b.commitInterval;
    this.commitBatchSize = b.commitBatchSize;
    this.pollTimeout = b.pollTimeout;
    this.closeTimeout = b.closeTimeout;
    this.autoOffsetReset = b.autoOffsetReset;
    this.consumerProperties = Collections.unmodifiableMap(new LinkedHashMap<>(b.properties));
    this.redeliveryScheduler = b.redeliveryScheduler;
    this.idHeader = b.idHeader;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from these options. */
  public Builder mutate() {
    Builder b = new Builder();
    b.bootstrapServers = bootstrapServers;
    b.groupId = groupId;
    b.topics = List.copyOf(topics);
    b.pattern = pattern;
    b.clientId = clientId;
    b.maxInFlight = maxInFlight;
    b.maxUncommitted = maxUncommitted;
    b.commitInterval = commitInterval;
    b.commitBatchSize = commitBatchSize;
    b.pollTimeout = pollTimeout;
    b.closeTimeout = closeTimeout;
    b.autoOffsetReset = autoOffsetReset;
    b.properties.putAll(consumerProperties);
    b.redeliveryScheduler = redeliveryScheduler;
    b.idHeader = idHeader;
    return b;
  }

  public String bootstrapServers() {
    return bootstrapServers;
  }

  public String groupId() {
    return groupId;
  }

  /** The subscribed topics; empty when a {@linkplain #pattern() pattern} is used. */
  public List<String> topics() {
    return topics;
  }

  /** The subscription pattern, or null when {@linkplain #topics() topics} are used. */
  public @Nullable Pattern pattern() {
    return pattern;
  }

  public @Nullable String clientId() {
    return clientId;
  }

  public int maxInFlight() {
    return maxInFlight;
  }

  public int maxUncommitted() {
    return maxUncommitted;
  }

  public Duration commitInterval() {
    return commitInterval;
  }

  public int commitBatchSize() {
    return commitBatchSize;
  }

  public Duration pollTimeout() {
    return pollTimeout;
  }

  public Duration closeTimeout() {
    return closeTimeout;
  }

  public String autoOffsetReset() {
    return autoOffsetReset;
  }

  /** Extra consumer properties, passed to the Kafka consumer as they are. Unmodifiable. */
  public Map<String, Object> consumerProperties() {
    return consumerProperties;
  }

  /** The scheduler whose timers delay redeliveries of nacked records. */
  public Scheduler redeliveryScheduler() {
    return redeliveryScheduler;
  }

  /**
   * The record header that carries the message id before {@code onceflow-id}, or null; see {@link
   * dev.onceflow.core.HeaderConvention#messageId}.
   */
  public @Nullable String idHeader() {
    return idHeader;
  }

  /** The reactor-kafka options these options stand for. */
  ReceiverOptions<byte[], byte[]> toReceiverOptions() {
    Map<String, Object> props = new LinkedHashMap<>(consumerProperties);
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    if (clientId != null) {
      props.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
    }
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, autoOffsetReset);
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    ReceiverOptions<byte[], byte[]> o =
        ReceiverOptions.<byte[], byte[]>create(props)
            .commitInterval(commitInterval)
            .commitBatchSize(commitBatchSize)
            .pollTimeout(pollTimeout)
            .closeTimeout(closeTimeout)
            // The source decides what a revocation commits; reactor-kafka's wait for "records in
            // the pipeline" counts acknowledge() calls, which the source makes only per commit
            // position, so it would always wait out its whole delay on the poll thread.
            .maxDelayRebalance(Duration.ZERO);
    Pattern p = pattern;
    return p != null ? o.subscription(p) : o.subscription(topics);
  }

  /** Builds {@link KafkaSourceOptions}. Each setter validates at once. Not thread-safe. */
  public static final class Builder {
    private @Nullable String bootstrapServers;
    private @Nullable String groupId;
    private List<String> topics = List.of();
    private @Nullable Pattern pattern;
    private @Nullable String clientId;
    private int maxInFlight = DEFAULT_MAX_IN_FLIGHT;
    private int maxUncommitted = DEFAULT_MAX_UNCOMMITTED;
    private Duration commitInterval = DEFAULT_COMMIT_INTERVAL;
    private int commitBatchSize = DEFAULT_COMMIT_BATCH_SIZE;
    private Duration pollTimeout = DEFAULT_POLL_TIMEOUT;
    private Duration closeTimeout = DEFAULT_CLOSE_TIMEOUT;
    private String autoOffsetReset = DEFAULT_AUTO_OFFSET_RESET;
    private final Map<String, Object> properties = new LinkedHashMap<>();
    private Scheduler redeliveryScheduler = Schedulers.parallel();
    private @Nullable String idHeader;

    private Builder() {}

    /** The brokers to bootstrap from, such as {@code "host1:9092,host2:9092"}. Required. */
    public Builder bootstrapServers(String bootstrapServers) {
      this.bootstrapServers = Check.notBlank(bootstrapServers, "bootstrapServers");
      return this;
    }

    /** The consumer group; offsets are committed for it. Required. */
    public Builder groupId(String groupId) {
      this.groupId = Check.notBlank(groupId, "groupId");
      return this;
    }

    /** The topics to subscribe to (replaces a pattern). */
    public Builder topics(String... topics) {
      return topics(List.of(Objects.requireNonNull(topics, "topics")));
    }

    /** The topics to subscribe to (replaces a pattern). */
    public Builder topics(Collection<String> topics) {
      Objects.requireNonNull(topics, "topics");
      if (topics.isEmpty()) {
        throw new IllegalArgumentException("`topics` must not be empty");
      }
      for (String t : topics) {
        Check.notBlank(t, "topic");
      }
      this.topics = List.copyOf(topics);
      this.pattern = null;
      return this;
    }

    /** Subscribes to every topic matching {@code pattern} (replaces topics). */
    public Builder pattern(Pattern pattern) {
      this.pattern = Objects.requireNonNull(pattern, "pattern");
      this.topics = List.of();
      return this;
    }

    /** Subscribes to every topic matching the regular expression (replaces topics). */
    public Builder pattern(String regex) {
      return pattern(Pattern.compile(Check.notBlank(regex, "pattern")));
    }

    /** The consumer's {@code client.id}, for broker logs and quotas. Optional. */
    public Builder clientId(String clientId) {
      this.clientId = Check.notBlank(clientId, "clientId");
      return this;
    }

    /**
     * The most records received and not finished (ready, in flight, or nacked and waiting for
     * redelivery). Default {@link #DEFAULT_MAX_IN_FLIGHT}.
     */
    public Builder maxInFlight(int maxInFlight) {
      this.maxInFlight = Check.between(maxInFlight, 1, MAX_IN_FLIGHT, "maxInFlight");
      return this;
    }

    /**
     * The most records received and not yet behind their partition's commit position, finished or
     * not; at least {@link #maxInFlight(int)}. Default {@link #DEFAULT_MAX_UNCOMMITTED}.
     */
    public Builder maxUncommitted(int maxUncommitted) {
      this.maxUncommitted = Check.between(maxUncommitted, 1, 10_000_000, "maxUncommitted");
      return this;
    }

    /**
     * How often acknowledged offsets are committed; zero commits by {@linkplain
     * #commitBatchSize(int) batch size} only. Default {@link #DEFAULT_COMMIT_INTERVAL}.
     */
    public Builder commitInterval(Duration commitInterval) {
      this.commitInterval = Check.notNegative(commitInterval, "commitInterval");
      return this;
    }

    /**
     * Commits once this many commit positions moved since the last commit; zero commits by interval
     * only. Default {@link #DEFAULT_COMMIT_BATCH_SIZE}.
     */
    public Builder commitBatchSize(int commitBatchSize) {
      this.commitBatchSize = Check.notNegative(commitBatchSize, "commitBatchSize");
      return this;
    }

    /** The consumer's poll timeout. Default {@link #DEFAULT_POLL_TIMEOUT}. */
    public Builder pollTimeout(Duration pollTimeout) {
      this.pollTimeout = Check.positive(pollTimeout, "pollTimeout");
      return this;
    }

    /** How long closing may take (last commit, leaving the group). */
    public Builder closeTimeout(Duration closeTimeout) {
      this.closeTimeout = Check.positive(closeTimeout, "closeTimeout");
      return this;
    }

    /**
     * Where a group without a committed offset starts: {@code earliest}, {@code latest} or {@code
     * none}. Default {@link #DEFAULT_AUTO_OFFSET_RESET}.
     */
    public Builder autoOffsetReset(String autoOffsetReset) {
      Objects.requireNonNull(autoOffsetReset, "autoOffsetReset");
      if (!Set.of("earliest", "latest", "none").contains(autoOffsetReset)) {
        throw new IllegalArgumentException(
            "`autoOffsetReset` must be earliest, latest or none, but was '"
                + autoOffsetReset
                + "'");
      }
      this.autoOffsetReset = autoOffsetReset;
      return this;
    }

    /**
     * Any other Kafka consumer property ({@code max.poll.records}, security settings, ...).
     * Properties with their own setter, auto-commit and the deserializers are refused.
     */
    public Builder consumerProperty(String name, Object value) {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(value, "value");
      if (MANAGED.contains(name)) {
        throw new IllegalArgumentException(
            "`"
                + name
                + "` is managed by onceflow: use the builder's own setter (offsets are committed "
                + "by the source, records are read as bytes)");
      }
      properties.put(name, value);
      return this;
    }

    /** Extra consumer properties; see {@link #consumerProperty(String, Object)}. */
    public Builder consumerProperties(Map<String, ?> properties) {
      Objects.requireNonNull(properties, "properties").forEach(this::consumerProperty);
      return this;
    }

    /**
     * The scheduler whose timers delay the redelivery of nacked records. Default {@code
     * Schedulers.parallel()}; tests may pass a virtual-time scheduler.
     */
    public Builder redeliveryScheduler(Scheduler scheduler) {
      this.redeliveryScheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    /**
     * The record header that carries the message id of producers that are not onceflow, such as
     * {@code X-Message-Id}: it is read before {@code onceflow-id} and the CloudEvents {@code
     * ce_id}, which are recognised without it. Default: none.
     */
    public Builder idHeader(String idHeader) {
      this.idHeader = Check.notBlank(idHeader, "idHeader");
      return this;
    }

    /**
     * Builds the options.
     *
     * @throws IllegalArgumentException when a required option is missing or options conflict
     */
    public KafkaSourceOptions build() {
      Check.required(bootstrapServers, "bootstrapServers", "the brokers to consume from");
      Check.required(groupId, "groupId", "offsets are committed per group");
      if (topics.isEmpty() && pattern == null) {
        throw new IllegalArgumentException("`topics` or `pattern` is required");
      }
      if (maxUncommitted < maxInFlight) {
        throw new IllegalArgumentException(
            "`maxUncommitted` ("
                + maxUncommitted
                + ") must be at least `maxInFlight` ("
                + maxInFlight
                + ")");
      }
      if (commitInterval.isZero() && commitBatchSize == 0) {
        throw new IllegalArgumentException(
            "`commitInterval` and `commitBatchSize` are both 0: offsets would be committed only on "
                + "revocation and close; set at least one of them");
      }
      return new KafkaSourceOptions(this);
    }
  }

  @Override
  public String toString() {
    return "KafkaSourceOptions{bootstrapServers="
        + bootstrapServers
        + ", groupId="
        + groupId
        + ", "
        + (pattern != null ? "pattern=" + pattern : "topics=" + topics)
        + ", maxInFlight="
        + maxInFlight
        + ", commitInterval="
        + commitInterval
        + ", commitBatchSize="
        + commitBatchSize
        + ", pollTimeout="
        + pollTimeout
        + (idHeader == null ? "" : ", idHeader=" + idHeader)
        + "}";
  }
}
