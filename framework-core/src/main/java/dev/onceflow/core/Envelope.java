package dev.onceflow.core;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One message, whatever broker it came from. Immutable and thread-safe.
 *
 * <p>Adapters fill it from the broker's message following the header convention of {@link
 * HeaderConvention}. Every field but the payload, the headers and the origin may be absent; a
 * message without a {@linkplain #messageId() message id} is never processed silently: the pipeline
 * derives an id by the rule the user chose or dead-letters it with reason {@code MISSING_ID}.
 *
 * <p>A header that is present but cannot be parsed (a non-numeric sequence, say) does not make the
 * adapter fail: the envelope is built without that field and {@link #malformation()} says what was
 * wrong, and the pipeline dead-letters the message with reason {@code DECODE_FAILED}.
 *
 * <p>The same type is what publishers send. A message to publish needs no origin: built without
 * {@link Builder#origin(Origin)}, its origin is {@link Origin#notReceived()}, and publishers ignore
 * the origin anyway.
 *
 * <pre>{@code
 * Envelope order = Envelope.builder()
 *     .messageId("order-42")          // what consumers deduplicate on
 *     .entityKey("customer-7")        // ordering; the record key on Kafka
 *     .payload(json)
 *     .build();
 * }</pre>
 */
public final class Envelope {

  private final @Nullable String messageId;
  private final @Nullable String entityKey;
  private final @Nullable String correlationId;
  private final @Nullable String causationId;
  private final @Nullable String producerId;
  private final @Nullable Long sequence;
  private final @Nullable Long version;
  private final @Nullable Instant timestamp;
  private final Map<String, String> headers;
  private final byte[] payload;
  private final Origin origin;
  private final boolean redrive;
  private final @Nullable String malformation;

  private Envelope(Builder b) {
    this.messageId = blankToNull(b.messageId);
    this.entityKey = blankToNull(b.entityKey);
    this.correlationId = blankToNull(b.correlationId);
    this.causationId = blankToNull(b.causationId);
    this.producerId = blankToNull(b.producerId);
    this.sequence = b.sequence;
    this.version = b.version;
    this.timestamp = b.timestamp;
    this.headers =
        b.headersShared
            ? b.headers
            : b.headers.isEmpty()
                ? Map.of()
                : Collections.unmodifiableMap(new LinkedHashMap<>(b.headers));
    this.payload = b.payload;
    this.origin = b.origin;
    this.redrive = b.redrive;
    this.malformation = b.malformation;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from this envelope's values. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.messageId = messageId;
    b.entityKey = entityKey;
    b.correlationId = correlationId;
    b.causationId = causationId;
    b.producerId = producerId;
    b.sequence = sequence;
    b.version = version;
    b.timestamp = timestamp;
    // Shared until the builder changes a header: copying per delivery is the hot path's cost.
    b.headers = headers;
    b.headersShared = true;
    b.payload = payload;
    b.origin = origin;
    b.redrive = redrive;
    b.malformation = malformation;
    return b;
  }

  /** The producer's id of the message: the default deduplication key. */
  public @Nullable String messageId() {
    return messageId;
  }

  /** The business entity the message is about: ordering and version guard. */
  public @Nullable String entityKey() {
    return entityKey;
  }

  public @Nullable String correlationId() {
    return correlationId;
  }

  public @Nullable String causationId() {
    return causationId;
  }

  /** The id of the producer instance that stamped {@link #sequence()}. */
  public @Nullable String producerId() {
    return producerId;
  }

  /** The producer's sequence number, per {@link #producerId()}. */
  public @Nullable Long sequence() {
    return sequence;
  }

  /** The version of the entity this message carries. */
  public @Nullable Long version() {
    return version;
  }

  /** When the producer created the message. */
  public @Nullable Instant timestamp() {
    return timestamp;
  }

  /**
   * The message's string headers as the broker carried them, convention headers included.
   * Unmodifiable.
   */
  public Map<String, String> headers() {
    return headers;
  }

  /** A copy of the raw payload. */
  public byte[] payload() {
    return payload.clone();
  }

  /** A read-only view of the raw payload, without copying. */
  public ByteBuffer payloadView() {
    return ByteBuffer.wrap(payload).asReadOnlyBuffer();
  }

  public int payloadSize() {
    return payload.length;
  }

  public Origin origin() {
    return origin;
  }

  /** Whether this message was sent back from a dead-letter destination (a redrive). */
  public boolean redrive() {
    return redrive;
  }

  /** What was wrong with the message's convention headers, or null when nothing was. */
  public @Nullable String malformation() {
    return malformation;
  }

  @Override
  public String toString() {
    // Never prints the payload or header values: logs must not leak message contents.
    return "Envelope{id="
        + messageId
        + ", key="
        + entityKey
        + ", origin="
        + origin.describe()
        + ", payload="
        + payload.length
        + " bytes}";
  }

  private static @Nullable String blankToNull(@Nullable String s) {
    return s == null || s.isBlank() ? null : s;
  }

  /** Builds an {@link Envelope}. Not thread-safe. */
  public static final class Builder {
    private @Nullable String messageId;
    private @Nullable String entityKey;
    private @Nullable String correlationId;
    private @Nullable String causationId;
    private @Nullable String producerId;
    private @Nullable Long sequence;
    private @Nullable Long version;
    private @Nullable Instant timestamp;
    private Map<String, String> headers = new LinkedHashMap<>();
    private boolean headersShared;
    private byte[] payload = new byte[0];
    private Origin origin = Origin.notReceived();
    private boolean redrive;
    private @Nullable String malformation;

    private Builder() {}

    public Builder messageId(@Nullable String messageId) {
      this.messageId = messageId;
      return this;
    }

    public Builder entityKey(@Nullable String entityKey) {
      this.entityKey = entityKey;
      return this;
    }

    public Builder correlationId(@Nullable String correlationId) {
      this.correlationId = correlationId;
      return this;
    }

    public Builder causationId(@Nullable String causationId) {
      this.causationId = causationId;
      return this;
    }

    public Builder producerId(@Nullable String producerId) {
      this.producerId = producerId;
      return this;
    }

    public Builder sequence(@Nullable Long sequence) {
      this.sequence = sequence;
      return this;
    }

    public Builder version(@Nullable Long version) {
      this.version = version;
      return this;
    }

    public Builder timestamp(@Nullable Instant timestamp) {
      this.timestamp = timestamp;
      return this;
    }

    public Builder header(String name, String value) {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(value, "value");
      if (headersShared) {
        headers = new LinkedHashMap<>(headers);
        headersShared = false;
      }
      headers.put(name, value);
      return this;
    }

    public Builder headers(Map<String, String> headers) {
      Objects.requireNonNull(headers, "headers").forEach(this::header);
      return this;
    }

    /** Sets the payload; the array is copied. */
    public Builder payload(byte[] payload) {
      this.payload = Objects.requireNonNull(payload, "payload").clone();
      return this;
    }

    /** Sets the payload without copying: the caller hands the array over and must not change it. */
    public Builder payloadUnsafe(byte[] payload) {
      this.payload = Objects.requireNonNull(payload, "payload");
      return this;
    }

    /**
     * Where the message was received from; adapters set it. Default {@link Origin#notReceived()},
     * the origin of a message built to be published.
     */
    public Builder origin(Origin origin) {
      this.origin = Objects.requireNonNull(origin, "origin");
      return this;
    }

    public Builder redrive(boolean redrive) {
      this.redrive = redrive;
      return this;
    }

    /** Records what was wrong with the message's headers; see {@link Envelope#malformation()}. */
    public Builder malformation(@Nullable String malformation) {
      this.malformation = malformation;
      return this;
    }

    public Envelope build() {
      return new Envelope(this);
    }
  }

  @Override
  public boolean equals(@Nullable Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof Envelope e)) {
      return false;
    }
    return Objects.equals(messageId, e.messageId)
        && Objects.equals(entityKey, e.entityKey)
        && Objects.equals(correlationId, e.correlationId)
        && Objects.equals(causationId, e.causationId)
        && Objects.equals(producerId, e.producerId)
        && Objects.equals(sequence, e.sequence)
        && Objects.equals(version, e.version)
        && Objects.equals(timestamp, e.timestamp)
        && headers.equals(e.headers)
        && Arrays.equals(payload, e.payload)
        && origin.equals(e.origin)
        && redrive == e.redrive
        && Objects.equals(malformation, e.malformation);
  }

  @Override
  public int hashCode() {
    return Objects.hash(messageId, entityKey, origin, Arrays.hashCode(payload));
  }
}
