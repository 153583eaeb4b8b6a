package dev.onceflow.kafka;

import dev.onceflow.core.HeaderConvention;
import dev.onceflow.kafka.embedded.EmbeddedKafka;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** Helpers of the Kafka integration tests: one shared in-JVM broker, fresh names, raw clients. */
final class KafkaTestSupport {

  private KafkaTestSupport() {}

  static EmbeddedKafka kafka() {
    return SharedKafka.broker();
  }

  static String unique(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  static KafkaSourceOptions.Builder options(String topic, String group) {
    return KafkaSourceOptions.builder()
        .bootstrapServers(kafka().bootstrapServers())
        .groupId(group)
        .topics(topic)
        .commitInterval(Duration.ofMillis(100));
  }

  /** A message to send raw: key, id header (null: none) and payload. */
  record Raw(String key, String id, String payload) {}

  /**
   * Sends records with the run's plain producer, each with an {@code onceflow-id} header when id !=
   * null, and waits until all are acknowledged.
   */
  static void produce(String topic, List<Raw> records) {
    try {
      KafkaProducer<byte[], byte[]> producer = SharedKafka.producer();
      List<Future<?>> sent = new ArrayList<>();
      for (Raw r : records) {
        RecordHeaders h = new RecordHeaders();
        if (r.id() != null) {
          h.add(HeaderConvention.MESSAGE_ID, r.id().getBytes(StandardCharsets.UTF_8));
        }
        sent.add(
            producer.send(
                new ProducerRecord<>(
                    topic,
                    null,
                    r.key() == null ? null : r.key().getBytes(StandardCharsets.UTF_8),
                    r.payload().getBytes(StandardCharsets.UTF_8),
                    h)));
      }
      producer.flush();
      for (Future<?> f : sent) {
        f.get();
      }
    } catch (Exception e) {
      throw new IllegalStateException("could not produce to '" + topic + "'", e);
    }
  }

  /**
   * Sends one record as a producer that is not onceflow would: the given headers only (UTF-8), and
   * waits until it is acknowledged.
   */
  static void produceForeign(String topic, String key, Map<String, String> headers, String value) {
    try {
      RecordHeaders h = new RecordHeaders();
      headers.forEach((k, v) -> h.add(k, v.getBytes(StandardCharsets.UTF_8)));
      SharedKafka.producer()
          .send(
              new ProducerRecord<>(
                  topic,
                  null,
                  key.getBytes(StandardCharsets.UTF_8),
                  value.getBytes(StandardCharsets.UTF_8),
                  h))
          .get();
    } catch (Exception e) {
      throw new IllegalStateException("could not produce to '" + topic + "'", e);
    }
  }

  /** Reads {@code count} records of a topic from the beginning (without a group). */
  static List<ConsumerRecord<byte[], byte[]>> readAll(String topic, int count, Duration timeout) {
    List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                kafka().bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG,
                unique("reader"),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                "earliest",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                false,
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
                ByteArrayDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
                ByteArrayDeserializer.class))) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + timeout.toNanos();
      while (out.size() < count && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(100)).forEach(out::add);
      }
    }
    return out;
  }

  /** Committed offset per partition number, -1 where nothing is committed. */
  static long[] committed(String group, String topic, int partitions) {
    Map<TopicPartition, OffsetAndMetadata> c = kafka().committedOffsets(group);
    long[] out = new long[partitions];
    for (int p = 0; p < partitions; p++) {
      OffsetAndMetadata m = c.get(new TopicPartition(topic, p));
      out[p] = m == null ? -1 : m.offset();
    }
    return out;
  }

  static long[] endOffsets(String topic, int partitions) {
    Map<TopicPartition, Long> e = kafka().endOffsets(topic, partitions);
    long[] out = new long[partitions];
    for (int p = 0; p < partitions; p++) {
      out[p] = e.get(new TopicPartition(topic, p));
    }
    return out;
  }

  static String utf8(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }
}
