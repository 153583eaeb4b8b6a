package dev.onceflow.kafka;

import dev.onceflow.core.Envelope;
import dev.onceflow.core.HeaderConvention;
import dev.onceflow.kafka.internal.KafkaEnvelopes;
import dev.onceflow.kafka.internal.Producers;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import reactor.kafka.sender.KafkaSender;

/**
 * An idempotent Kafka publisher that stamps the {@link HeaderConvention} headers, so that
 * producer-side and consumer-side deduplication work together.
 *
 * <ul>
 *   <li>The producer is idempotent ({@code enable.idempotence=true}, {@code acks=all}): the
 *       client's own retries never write a record twice.
 *   <li>Every message gets a stable {@code onceflow-id} (the one given in the headers or the
 *       envelope, else a random UUID), the publisher's {@code onceflow-producer-id} and a {@code
 *       onceflow-sequence} that grows by one per message and topic, plus {@code onceflow-key} (the
 *       record key) and {@code onceflow-timestamp} when absent. Values already present are kept;
 *       producer id and sequence are stamped only as a pair, when the message carries neither.
 *   <li>The id and sequence are fixed when {@code publish} is called: re-subscribing the returned
 *       {@code Mono} (a retry) sends the same record with the same id, which consumers deduplicate.
 *       A message that is never sent leaves a gap in its topic's sequence.
 * </ul>
 *
 * <p>The returned {@code Mono} completes once the broker acknowledged the record. Sending runs on
 * reactor-kafka's sender thread and never blocks the caller. Thread-safe.
 */
public final class KafkaPublisher implements AutoCloseable {

  private final KafkaSender<byte[], byte[]> sender;
  private final String producerId;
  private final long firstSequence;
  private final Map<String, AtomicLong> sequences = new ConcurrentHashMap<>();

  private KafkaPublisher(KafkaPublisherOptions options) {
    this.producerId = options.producerId();
    this.firstSequence = options.firstSequence();
    this.sender =
        Producers.idempotentSender(
            options.bootstrapServers(), options.clientId(), options.producerProperties());
  }

  /** A publisher with the given options. The producer is created on the first publish. */
  public static KafkaPublisher create(KafkaPublisherOptions options) {
    return new KafkaPublisher(Objects.requireNonNull(options, "options"));
  }

  /** A publisher to the brokers at {@code bootstrapServers}, with a random producer id. */
  public static KafkaPublisher create(String bootstrapServers) {
    return create(KafkaPublisherOptions.builder().bootstrapServers(bootstrapServers).build());
  }

  /** The id stamped as {@code onceflow-producer-id}. */
  public String producerId() {
    return producerId;
  }

  /** Publishes a payload with a new message id. */
  public Mono<KafkaPublishResult> publish(String topic, @Nullable String key, byte[] payload) {
    return publish(topic, key, payload, Map.of());
  }

  /**
   * Publishes a payload with extra headers. Convention headers among them are kept, {@code
   * onceflow-id} included: pass it to give a message a stable id across your own retries.
   */
  public Mono<KafkaPublishResult> publish(
      String topic, @Nullable String key, byte[] payload, Map<String, String> headers) {
    Objects.requireNonNull(topic, "topic");
    Objects.requireNonNull(payload, "payload");
    Objects.requireNonNull(headers, "headers");
    return prepare(topic, key, payload.clone(), new LinkedHashMap<>(headers));
  }

  /**
   * Publishes an envelope: its payload, its entity key as the record key, and its fields and
   * headers as headers. Its origin is ignored. Redriving a dead letter this way keeps its id.
   */
  public Mono<KafkaPublishResult> publish(String topic, Envelope envelope) {
    Objects.requireNonNull(topic, "topic");
    Objects.requireNonNull(envelope, "envelope");
    return prepare(
        topic,
        envelope.entityKey(),
        envelope.payload(),
        new LinkedHashMap<>(HeaderConvention.toHeaders(envelope)));
  }

  private Mono<KafkaPublishResult> prepare(
      String topic, @Nullable String key, byte[] payload, Map<String, String> headers) {
    if (topic.isBlank()) {
      throw new IllegalArgumentException("`topic` must not be blank");
    }
    String id = headers.get(HeaderConvention.MESSAGE_ID);
    if (id == null || id.isBlank()) {
      id = UUID.randomUUID().toString();
      headers.put(HeaderConvention.MESSAGE_ID, id);
    }
    String pid = headers.get(HeaderConvention.PRODUCER_ID);
    long sequence;
    if (pid == null || pid.isBlank()) {
      pid = producerId;
      sequence =
          sequences.computeIfAbsent(topic, t -> new AtomicLong(firstSequence)).getAndIncrement();
      headers.put(HeaderConvention.PRODUCER_ID, pid);
      headers.put(HeaderConvention.SEQUENCE, Long.toString(sequence));
    } else {
      sequence = parseSequence(headers.get(HeaderConvention.SEQUENCE));
    }
    if (key != null && !headers.containsKey(HeaderConvention.ENTITY_KEY)) {
      headers.put(HeaderConvention.ENTITY_KEY, key);
    }
    headers.putIfAbsent(HeaderConvention.TIMESTAMP, Instant.now().toString());
    ProducerRecord<byte[], byte[]> record =
        new ProducerRecord<>(
            topic,
            null,
            key == null ? null : key.getBytes(StandardCharsets.UTF_8),
            payload,
            KafkaEnvelopes.toRecordHeaders(headers));
    String messageId = id;
    String producer = pid;
    return Mono.defer(() -> Producers.send(sender, record))
        .map(
            m ->
                new KafkaPublishResult(
                    m.topic(), m.partition(), m.offset(), messageId, producer, sequence));
  }

  private static long parseSequence(@Nullable String s) {
    if (s == null) {
      return -1;
    }
    try {
      return Long.parseLong(s.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** Closes the producer, waiting for records in flight to be sent. Blocking. */
  @Override
  public void close() {
    sender.close();
  }

  @Override
  public String toString() {
    return "KafkaPublisher{" + producerId + "}";
  }
}
