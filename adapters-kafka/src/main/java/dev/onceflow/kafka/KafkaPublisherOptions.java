package dev.onceflow.kafka;

import dev.onceflow.kafka.internal.Producers;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * How a {@link KafkaPublisher} publishes: brokers, its producer id and first sequence number, and
 * producer settings. Immutable and thread-safe; build one with {@link #builder()}.
 *
 * <p>The producer is always idempotent with {@code acks=all}; those settings cannot be changed.
 */
public final class KafkaPublisherOptions {

  /** Default first sequence number of each topic: 1. */
  public static final long DEFAULT_FIRST_SEQUENCE = 1;

  private final String bootstrapServers;
  private final @Nullable String clientId;
  private final String producerId;
  private final long firstSequence;
  private final Map<String, Object> producerProperties;

  private KafkaPublisherOptions(Builder b) {
    this.bootstrapServers = Objects.requireNonNull(b.bootstrapServers);
    this.clientId = b.clientId;
    this.producerId = b.producerId != null ? b.producerId : "onceflow-" + UUID.randomUUID();
    this.firstSequence = b.firstSequence;
    this.producerProperties = Collections.unmodifiableMap(new LinkedHashMap<>(b.properties));
  }

  public static Builder builder() {
    return new Builder();
  }

  public String bootstrapServers() {
    return bootstrapServers;
  }

  public @Nullable String clientId() {
    return clientId;
  }

  /** The id stamped as {@code onceflow-producer-id}. */
  public String producerId() {
    return producerId;
  }

  /** The first {@code onceflow-sequence} of each topic. */
  public long firstSequence() {
    return firstSequence;
  }

  /** Extra producer properties. Unmodifiable. */
  public Map<String, Object> producerProperties() {
    return producerProperties;
  }

  /** Builds {@link KafkaPublisherOptions}. Each setter validates at once. Not thread-safe. */
  public static final class Builder {
    private @Nullable String bootstrapServers;
    private @Nullable String clientId;
    private @Nullable String producerId;
    private long firstSequence = DEFAULT_FIRST_SEQUENCE;
    private final Map<String, Object> properties = new LinkedHashMap<>();

    private Builder() {}

    /** The brokers to bootstrap from. Required. */
    public Builder bootstrapServers(String bootstrapServers) {
      this.bootstrapServers =
          KafkaDeadLetterOptions.Builder.requireText(bootstrapServers, "bootstrapServers");
      return this;
    }

    /** The producer's {@code client.id}. Optional. */
    public Builder clientId(String clientId) {
      this.clientId = KafkaDeadLetterOptions.Builder.requireText(clientId, "clientId");
      return this;
    }

    /**
     * The producer id stamped on every message. Default: {@code onceflow-} followed by a random
     * UUID, new for each publisher. A fixed id must not be shared by two live publishers, and a
     * restarted publisher that reuses it must continue its sequences ({@link #firstSequence}):
     * consumers deduplicating by producer sequence treat a sequence they have seen as a duplicate.
     */
    public Builder producerId(String producerId) {
      this.producerId = KafkaDeadLetterOptions.Builder.requireText(producerId, "producerId");
      return this;
    }

    /** The first sequence number of each topic. Default {@link #DEFAULT_FIRST_SEQUENCE}. */
    public Builder firstSequence(long firstSequence) {
      if (firstSequence < 0) {
        throw new IllegalArgumentException(
            "`firstSequence` must not be negative, but was " + firstSequence);
      }
      this.firstSequence = firstSequence;
      return this;
    }

    /**
     * Any other producer property ({@code linger.ms}, {@code compression.type}, security settings,
     * ...). {@code acks}, idempotence, serializers and transactions are refused.
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
    public KafkaPublisherOptions build() {
      if (bootstrapServers == null) {
        throw new IllegalArgumentException("`bootstrapServers` is required");
      }
      return new KafkaPublisherOptions(this);
    }
  }
}
