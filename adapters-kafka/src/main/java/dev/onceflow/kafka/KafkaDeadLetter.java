package dev.onceflow.kafka;

import dev.onceflow.core.Envelope;
import dev.onceflow.deadletter.DeadLetter;
import dev.onceflow.deadletter.DeadLetterSink;
import dev.onceflow.kafka.internal.KafkaEnvelopes;
import dev.onceflow.kafka.internal.Producers;
import dev.onceflow.kafka.internal.Topics;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import org.apache.kafka.clients.producer.ProducerRecord;
import reactor.core.publisher.Mono;
import reactor.kafka.sender.KafkaSender;

/**
 * A {@link DeadLetterSink} that publishes to a Kafka topic.
 *
 * <p>The dead-letter record carries the original payload as its value, the envelope's entity key
 * (by default the original record key, see {@link KafkaSource}) as its key, and as headers the
 * original headers, the convention headers and the dead-letter metadata of {@link
 * DeadLetter#headers()} ({@code onceflow-dlq-reason}, {@code -exception}, {@code -message}, {@code
 * -attempts}, {@code -first-failure}, {@code -last-failure}, {@code -pipeline}, {@code -key}, and
 * the origin topic, partition and offset), all UTF-8.
 *
 * <p>{@link #ready()} checks that the topic exists (or creates it, when {@link
 * KafkaDeadLetterOptions#createTopic()} allows), so that a missing topic fails the pipeline at
 * start with its name instead of stalling each poison message for the producer's {@code
 * max.block.ms}.
 *
 * <p>{@link #publish(DeadLetter)} completes only after the broker acknowledged the record with
 * {@code acks=all} from an idempotent producer, and errors with a {@link KafkaOperationException}
 * otherwise (the pipeline then nacks the original). Dead letters are at-least-once: a retried
 * publish may write the record twice. Sending runs on reactor-kafka's sender thread; the returned
 * {@code Mono} never blocks the caller. Each subscription sends again.
 */
public final class KafkaDeadLetter implements DeadLetterSink, AutoCloseable {

  private final KafkaDeadLetterOptions options;
  private final KafkaSender<byte[], byte[]> sender;

  private KafkaDeadLetter(KafkaDeadLetterOptions options) {
    this.options = options;
    this.sender =
        Producers.idempotentSender(
            options.bootstrapServers(), options.clientId(), options.producerProperties());
  }

  /** A sink with the given options. The producer connects on the first publish. */
  public static KafkaDeadLetter create(KafkaDeadLetterOptions options) {
    return new KafkaDeadLetter(Objects.requireNonNull(options, "options"));
  }

  /**
   * A sink that publishes to {@code topic} on the brokers at {@code bootstrapServers}, with the
   * default options (the topic must exist).
   */
  public static KafkaDeadLetter create(String bootstrapServers, String topic) {
    return create(
        KafkaDeadLetterOptions.builder().bootstrapServers(bootstrapServers).topic(topic).build());
  }

  /** The options of this sink. */
  public KafkaDeadLetterOptions options() {
    return options;
  }

  /** The dead-letter topic. */
  public String topic() {
    return options.topic();
  }

  /**
   * Completes when the dead-letter topic exists; creates it first when it is missing and {@link
   * KafkaDeadLetterOptions#createTopic()} is set. Errors with a {@link KafkaOperationException}
   * naming the topic when it is missing and may not be created, cannot be created, or the brokers
   * do not answer within {@link KafkaDeadLetterOptions#readyTimeout()}. Each subscription checks
   * again.
   */
  @Override
  public Mono<Void> ready() {
    return Topics.ensure(
        options.bootstrapServers(),
        options.producerProperties(),
        options.topic(),
        options.createTopic()
            ? new Topics.Creation(options.topicPartitions(), options.topicReplicationFactor())
            : null,
        options.readyTimeout());
  }

  @Override
  public Mono<Void> publish(DeadLetter deadLetter) {
    Objects.requireNonNull(deadLetter, "deadLetter");
    return Mono.defer(
        () -> {
          Envelope e = deadLetter.envelope();
          String key = e.entityKey();
          ProducerRecord<byte[], byte[]> record =
              new ProducerRecord<>(
                  options.topic(),
                  null,
                  key == null ? null : key.getBytes(StandardCharsets.UTF_8),
                  e.payload(),
                  KafkaEnvelopes.toRecordHeaders(deadLetter.headers()));
          return Producers.send(sender, record, e.messageId()).then();
        });
  }

  /** Closes the producer, waiting for records in flight to be sent. Blocking. */
  @Override
  public void close() {
    sender.close();
  }

  @Override
  public String toString() {
    return "KafkaDeadLetter{" + options.topic() + "}";
  }
}
