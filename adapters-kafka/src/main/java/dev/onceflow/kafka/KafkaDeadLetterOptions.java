package dev.onceflow.kafka;

import dev.onceflow.kafka.internal.Producers;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Where and how a {@link KafkaDeadLetter} publishes: brokers, the dead-letter topic and producer
 * settings. Immutable and thread-safe; build one with {@link #builder()}.
 *
 * <p>The producer is always idempotent with {@code acks=all}; those settings cannot be changed.
 */
public final class KafkaDeadLetterOptions {

  private final String bootstrapServers;
  private final String topic;
  private final @Nullable String clientId;
  private final Map<String, Object> producerProperties;

  private KafkaDeadLetterOptions(Builder b) {
    this.bootstrapServers = Objects.requireNonNull(b.bootstrapServers);
    this.topic = Objects.requireNonNull(b.topic);
    this.clientId = b.clientId;
    this.producerProperties = Collections.unmodifiableMap(new LinkedHashMap<>(b.properties));
  }

  public static Builder builder() {
    return new Builder();
  }

  public String bootstrapServers() {
    return bootstrapServers;
  }

  /** The dead-letter topic. */
  public String topic() {
    return topic;
  }

  public @Nullable String clientId() {
    return clientId;
  }

  /** Extra producer properties. Unmodifiable. */
  public Map<String, Object> producerProperties() {
    return producerProperties;
  }

  /** Builds {@link KafkaDeadLetterOptions}. Each setter validates at once. Not thread-safe. */
  public static final class Builder {
    private @Nullable String bootstrapServers;
    private @Nullable String topic;
    private @Nullable String clientId;
    private final Map<String, Object> properties = new LinkedHashMap<>();

    private Builder() {}

    /** The brokers to bootstrap from. Required. */
    public Builder bootstrapServers(String bootstrapServers) {
      this.bootstrapServers = requireText(bootstrapServers, "bootstrapServers");
      return this;
    }

    /** The dead-letter topic, such as {@code orders.DLT}. Required. */
    public Builder topic(String topic) {
      this.topic = requireText(topic, "topic");
      return this;
    }

    /** The producer's {@code client.id}. Optional. */
    public Builder clientId(String clientId) {
      this.clientId = requireText(clientId, "clientId");
      return this;
    }

    /**
     * Any other producer property ({@code delivery.timeout.ms}, {@code compression.type}, security
     * settings, ...). {@code acks}, idempotence, serializers and transactions are refused.
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
      if (bootstrapServers == null) {
        throw new IllegalArgumentException("`bootstrapServers` is required");
      }
      if (topic == null) {
        throw new IllegalArgumentException("`topic` is required: the dead-letter topic");
      }
      return new KafkaDeadLetterOptions(this);
    }

    static String requireText(String value, String name) {
      Objects.requireNonNull(value, name);
      if (value.isBlank()) {
        throw new IllegalArgumentException("`" + name + "` must not be blank");
      }
      return value;
    }
  }
}
