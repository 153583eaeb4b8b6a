package dev.onceflow.kafka;

import dev.onceflow.core.Check;
import dev.onceflow.core.Envelope;
import dev.onceflow.core.HeaderConvention;
import dev.onceflow.core.MessagePublisher;
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
 * producer-side and consumer-side deduplication work together. The {@link MessagePublisher}
 * contract holds; on Kafka:
 *
 * <ul>
 *   <li>The producer is idempotent ({@code enable.idempotence=true}, {@code acks=all}): the
 *       client's own retries never write a record twice.
 *   <li>Every message gets a stable {@code onceflow-id} (the envelope's, else a random UUID), the
 *       publisher's {@code onceflow-producer-id} and a {@code onceflow-sequence} that grows by one
 *       per message and topic, and {@code onceflow-timestamp} when absent. Values already present
 *       are kept; producer id and sequence are stamped only as a pair, when the message carries
 *       neither.
 *   <li>The record key is {@link KafkaPublisherOptions#recordKey()} of the message: by default its
 *       entity key. It is never the message id's substitute.
 *   <li>The id and sequence are fixed when {@code publish} is called: re-subscribing the returned
 *       {@code Mono} (a retry) sends the same record with the same id, which consumers deduplicate.
 *       A message that is never sent leaves a gap in its topic's sequence.
 * </ul>
 *
 * <p>The returned {@code Mono} completes once the broker acknowledged the record, and errors with a
 * {@link KafkaOperationException} otherwise. Sending runs on reactor-kafka's sender thread and
 * never blocks the caller. Thread-safe.
 */
public final class KafkaPublisher implements MessagePublisher<KafkaPublishResult> {

  private final KafkaPublisherOptions options;
  private final KafkaSender<byte[], byte[]> sender;
  private final String producerId;
  private final Map<String, AtomicLong> sequences = new ConcurrentHashMap<>();

  private KafkaPublisher(KafkaPublisherOptions options) {
    this.options = options;
    String pid = options.producerId();
    this.producerId = pid != null ? pid : "onceflow-" + UUID.randomUUID();
    this.sender =
        Producers.idempotentSender(
            options.bootstrapServers(), options.clientId(), options.producerProperties());
  }

  /** A publisher with the given options. The producer connects on the first publish. */
  public static KafkaPublisher create(KafkaPublisherOptions options) {
    return new KafkaPublisher(Objects.requireNonNull(options, "options"));
  }

  /** A publisher to the brokers at {@code bootstrapServers}, with the default options. */
  public static KafkaPublisher create(String bootstrapServers) {
    return create(KafkaPublisherOptions.builder().bootstrapServers(bootstrapServers).build());
  }

  /** The options of this publisher. */
  public KafkaPublisherOptions options() {
    return options;
  }

  /** The id stamped as {@code onceflow-producer-id}. */
  public String producerId() {
    return producerId;
  }

  /**
   * Publishes {@code message} to {@code topic}: its payload as the value, {@link
   * KafkaPublisherOptions#recordKey()} as the key, its fields and headers as headers. Its origin is
   * ignored; redriving a dead letter this way keeps its id.
   */
  @Override
  public Mono<KafkaPublishResult> publish(String topic, Envelope message) {
    Check.notBlank(topic, "topic");
    Objects.requireNonNull(message, "message");
    Map<String, String> headers = new LinkedHashMap<>(HeaderConvention.toHeaders(message));
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
          sequences
              .computeIfAbsent(topic, t -> new AtomicLong(options.firstSequence()))
              .getAndIncrement();
      headers.put(HeaderConvention.PRODUCER_ID, pid);
      headers.put(HeaderConvention.SEQUENCE, Long.toString(sequence));
    } else {
      sequence = parseSequence(headers.get(HeaderConvention.SEQUENCE));
    }
    headers.putIfAbsent(HeaderConvention.TIMESTAMP, Instant.now().toString());
    String key = options.recordKey().apply(message);
    ProducerRecord<byte[], byte[]> record =
        new ProducerRecord<>(
            topic,
            null,
            key == null ? null : key.getBytes(StandardCharsets.UTF_8),
            message.payload(),
            KafkaEnvelopes.toRecordHeaders(headers));
    String messageId = id;
    String producer = pid;
    return Mono.defer(() -> Producers.send(sender, record, messageId))
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
