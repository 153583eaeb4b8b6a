package dev.onceflow.kafka;

import dev.onceflow.core.Check;
import dev.onceflow.core.Envelope;
import dev.onceflow.kafka.internal.Producers;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * How a {@link KafkaPublisher} publishes: brokers, its producer id and first sequence number, how a
 * message's record key is chosen, and producer settings. Immutable and thread-safe; build one with
 * {@link #builder()}, change one with {@link #mutate()}.
 *
 * <p>The producer is always idempotent with {@code acks=all}; those settings cannot be changed.
 */
public final class KafkaPublisherOptions {

  /** Default first sequence number of each topic: 1, so that 0 never appears as a sequence. */
  public static final long DEFAULT_FIRST_SEQUENCE = 1;

  /**
   * Default record key: the envelope's {@linkplain Envelope#entityKey() entity key} (no key when it
   * has none), which is also what {@link KafkaSource} reads back as the entity key. Records of one
   * entity then share a partition and keep their order.
   */
  public static final Function<Envelope, @Nullable String> DEFAULT_RECORD_KEY = Envelope::entityKey;

  private final String bootstrapServers;
  private final @Nullable String clientId;
  private final @Nullable String producerId;
  private final long firstSequence;
  private final Function<Envelope, @Nullable String> recordKey;
  private final Map<String, Object> producerProperties;

  private KafkaPublisherOptions(Builder b) {
    this.bootstrapServers = Objects.requireNonNull(b.bootstrapServers);
    this.clientId = b.clientId;
    this.producerId = b.producerId;
    this.firstSequence = b.firstSequence;
    this.recordKey = b.recordKey;
    this.producerProperties = Collections.unmodifiableMap(new LinkedHashMap<>(b.properties));
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from these options. */
  public Builder mutate() {
    Builder b = new Builder();
    b.bootstrapServers = bootstrapServers;
    b.clientId = clientId;
    b.producerId = producerId;
    b.firstSequence = firstSequence;
    b.recordKey = recordKey;
    b.properties.putAll(producerProperties);
    return b;
  }

  /** The brokers to bootstrap from. */
  public String bootstrapServers() {
    return bootstrapServers;
  }

  /** The producer's {@code client.id}, or null for Kafka's generated one. */
  public @Nullable String clientId() {
    return clientId;
  }

  /**
   * The id stamped as {@code onceflow-producer-id}, or null: each publisher then takes {@code
   * onceflow-} followed by a random UUID.
   */
  public @Nullable String producerId() {
    return producerId;
  }

  /** The first {@code onceflow-sequence} of each topic. */
  public long firstSequence() {
    return firstSequence;
  }

  /** Chooses the record key of a message (null: no key). */
  public Function<Envelope, @Nullable String> recordKey() {
    return recordKey;
  }

  /** Extra producer properties. Unmodifiable. */
  public Map<String, Object> producerProperties() {
    return producerProperties;
  }

  @Override
  public String toString() {
    return "KafkaPublisherOptions{bootstrapServers="
        + bootstrapServers
        + ", producerId="
        + producerId
        + ", firstSequence="
        + firstSequence
        + "}";
  }

  /** Builds {@link KafkaPublisherOptions}. Each setter validates at once. Not thread-safe. */
  public static final class Builder {
    private @Nullable String bootstrapServers;
    private @Nullable String clientId;
    private @Nullable String producerId;
    private long firstSequence = DEFAULT_FIRST_SEQUENCE;
    private Function<Envelope, @Nullable String> recordKey = DEFAULT_RECORD_KEY;
    private final Map<String, Object> properties = new LinkedHashMap<>();

    private Builder() {}

    /** The brokers to bootstrap from, such as {@code "host1:9092,host2:9092"}. Required. */
    public Builder bootstrapServers(String bootstrapServers) {
      this.bootstrapServers = Check.notBlank(bootstrapServers, "bootstrapServers");
      return this;
    }

    /** The producer's {@code client.id}. Optional. */
    public Builder clientId(String clientId) {
      this.clientId = Check.notBlank(clientId, "clientId");
      return this;
    }

    /**
     * The producer id stamped on every message. Default: {@code onceflow-} followed by a random
     * UUID, new for each publisher. A fixed id must not be shared by two live publishers, and a
     * restarted publisher that reuses it must continue its sequences ({@link #firstSequence}):
     * consumers deduplicating by producer sequence treat a sequence they have seen as a duplicate.
     */
    public Builder producerId(String producerId) {
      this.producerId = Check.notBlank(producerId, "producerId");
      return this;
    }

    /** The first sequence number of each topic. Default {@link #DEFAULT_FIRST_SEQUENCE}. */
    public Builder firstSequence(long firstSequence) {
      this.firstSequence = Check.notNegative(firstSequence, "firstSequence");
      return this;
    }

    /**
     * How the record key (partitioning, compaction) is chosen from the message; a null result sends
     * the record without a key. The key never replaces the message id. Default {@link
     * #DEFAULT_RECORD_KEY}, the entity key. For example {@code recordKey(e ->
     * e.headers().get("tenant"))}.
     */
    public Builder recordKey(Function<Envelope, @Nullable String> recordKey) {
      this.recordKey = Objects.requireNonNull(recordKey, "recordKey");
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
      Check.required(bootstrapServers, "bootstrapServers", "the brokers to publish to");
      return new KafkaPublisherOptions(this);
    }
  }
}
