package dev.onceflow.kafka;

import dev.onceflow.core.Check;
import dev.onceflow.kafka.internal.Producers;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Where and how a {@link KafkaDeadLetter} publishes: brokers, the dead-letter topic, whether a
 * missing topic may be created, and producer settings. Immutable and thread-safe; build one with
 * {@link #builder()}, change one with {@link #mutate()}.
 *
 * <p>The producer is always idempotent with {@code acks=all}; those settings cannot be changed.
 */
public final class KafkaDeadLetterOptions {

  /**
   * Default for creating a missing dead-letter topic: false. Topics are the operator's (partitions,
   * replication, retention); a missing one fails {@link KafkaDeadLetter#ready()} with its name.
   */
  public static final boolean DEFAULT_CREATE_TOPIC = false;

  /**
   * Default bound on {@link KafkaDeadLetter#ready()}: 30 s, half of Kafka's {@code
   * default.api.timeout.ms} (60 s), so that unreachable brokers fail a start in reasonable time.
   */
  public static final Duration DEFAULT_READY_TIMEOUT = Duration.ofSeconds(30);

  private final String bootstrapServers;
  private final String topic;
  private final @Nullable String clientId;
  private final boolean createTopic;
  private final @Nullable Integer topicPartitions;
  private final @Nullable Short topicReplicationFactor;
  private final Duration readyTimeout;
  private final Map<String, Object> producerProperties;

  private KafkaDeadLetterOptions(Builder b) {
    this.bootstrapServers = Objects.requireNonNull(b.bootstrapServers);
    this.topic = Objects.requireNonNull(b.topic);
    this.clientId = b.clientId;
    this.createTopic = b.createTopic;
    this.topicPartitions = b.topicPartitions;
    this.topicReplicationFactor = b.topicReplicationFactor;
    this.readyTimeout = b.readyTimeout;
    this.producerProperties = Collections.unmodifiableMap(new LinkedHashMap<>(b.properties));
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from these options. */
  public Builder mutate() {
    Builder b = new Builder();
    b.bootstrapServers = bootstrapServers;
    b.topic = topic;
    b.clientId = clientId;
    b.createTopic = createTopic;
    b.topicPartitions = topicPartitions;
    b.topicReplicationFactor = topicReplicationFactor;
    b.readyTimeout = readyTimeout;
    b.properties.putAll(producerProperties);
    return b;
  }

  /** The brokers to bootstrap from. */
  public String bootstrapServers() {
    return bootstrapServers;
  }

  /** The dead-letter topic. */
  public String topic() {
    return topic;
  }

  /** The producer's {@code client.id}, or null for Kafka's generated one. */
  public @Nullable String clientId() {
    return clientId;
  }

  /** Whether {@link KafkaDeadLetter#ready()} creates the topic when it is missing. */
  public boolean createTopic() {
    return createTopic;
  }

  /** The partitions of a created topic, or null for the broker's {@code num.partitions}. */
  public @Nullable Integer topicPartitions() {
    return topicPartitions;
  }

  /**
   * The replication factor of a created topic, or null for the broker's {@code
   * default.replication.factor}.
   */
  public @Nullable Short topicReplicationFactor() {
    return topicReplicationFactor;
  }

  /** How long {@link KafkaDeadLetter#ready()} waits for the brokers. */
  public Duration readyTimeout() {
    return readyTimeout;
  }

  /** Extra producer properties. Unmodifiable. */
  public Map<String, Object> producerProperties() {
    return producerProperties;
  }

  @Override
  public String toString() {
    return "KafkaDeadLetterOptions{bootstrapServers="
        + bootstrapServers
        + ", topic="
        + topic
        + ", createTopic="
        + createTopic
        + "}";
  }

  /** Builds {@link KafkaDeadLetterOptions}. Each setter validates at once. Not thread-safe. */
  public static final class Builder {
    private @Nullable String bootstrapServers;
    private @Nullable String topic;
    private @Nullable String clientId;
    private boolean createTopic = DEFAULT_CREATE_TOPIC;
    private @Nullable Integer topicPartitions;
    private @Nullable Short topicReplicationFactor;
    private Duration readyTimeout = DEFAULT_READY_TIMEOUT;
    private final Map<String, Object> properties = new LinkedHashMap<>();

    private Builder() {}

    /** The brokers to bootstrap from, such as {@code "host1:9092,host2:9092"}. Required. */
    public Builder bootstrapServers(String bootstrapServers) {
      this.bootstrapServers = Check.notBlank(bootstrapServers, "bootstrapServers");
      return this;
    }

    /** The dead-letter topic, such as {@code orders.DLT}. Required. */
    public Builder topic(String topic) {
      this.topic = Check.notBlank(topic, "topic");
      return this;
    }

    /** The producer's {@code client.id}. Optional. */
    public Builder clientId(String clientId) {
      this.clientId = Check.notBlank(clientId, "clientId");
      return this;
    }

    /**
     * Whether {@link KafkaDeadLetter#ready()} creates the topic when it is missing (with {@link
     * #topicPartitions(int)} and {@link #topicReplicationFactor(int)}, else the broker's defaults).
     * Default {@link #DEFAULT_CREATE_TOPIC}.
     */
    public Builder createTopic(boolean createTopic) {
      this.createTopic = createTopic;
      return this;
    }

    /** The partitions of a created topic. Default: the broker's {@code num.partitions}. */
    public Builder topicPartitions(int topicPartitions) {
      this.topicPartitions = Check.positive(topicPartitions, "topicPartitions");
      return this;
    }

    /**
     * The replication factor of a created topic, 1 to 32767. Default: the broker's {@code
     * default.replication.factor}.
     */
    public Builder topicReplicationFactor(int topicReplicationFactor) {
      this.topicReplicationFactor =
          (short)
              Check.between(topicReplicationFactor, 1, Short.MAX_VALUE, "topicReplicationFactor");
      return this;
    }

    /** How long {@link KafkaDeadLetter#ready()} waits for the brokers. */
    public Builder readyTimeout(Duration readyTimeout) {
      this.readyTimeout = Check.positive(readyTimeout, "readyTimeout");
      return this;
    }

    /**
     * Any other producer property ({@code delivery.timeout.ms}, {@code compression.type}, security
     * settings, ...); security settings also apply to the admin client of {@link
     * KafkaDeadLetter#ready()}. {@code acks}, idempotence, serializers and transactions are
     * refused.
     */
    public Builder producerProperty(String name, Object value) {
      Producers.checkProperty(name, value);
      properties.put(name, value);
      return this;
    }

    /**
     * Builds the options.
     *
     * @throws IllegalArgumentException when a required option is missing
     */
    public KafkaDeadLetterOptions build() {
      Check.required(bootstrapServers, "bootstrapServers", "the brokers to publish to");
      Check.required(topic, "topic", "the dead-letter topic");
      return new KafkaDeadLetterOptions(this);
    }
  }
}
