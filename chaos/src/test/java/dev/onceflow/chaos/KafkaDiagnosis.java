package dev.onceflow.chaos;

import dev.onceflow.kafka.embedded.EmbeddedKafka;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * A stalled Kafka run seen from outside: which member holds which partition, how far each partition
 * is committed, and whether the broker serves the uncommitted records to a plain consumer outside
 * the group. It tells a broker that stopped serving a partition from a member that stopped fetching
 * it.
 */
final class KafkaDiagnosis {

  private KafkaDiagnosis() {}

  static String of(EmbeddedKafka kafka, String topic, int partitions, String group) {
    StringBuilder out = new StringBuilder("kafka diagnosis of group ").append(group).append(":\n");
    try {
      ConsumerGroupDescription d =
          kafka
              .admin()
              .describeConsumerGroups(List.of(group))
              .describedGroups()
              .get(group)
              .get(10, TimeUnit.SECONDS);
      out.append("  state ").append(d.groupState()).append(", ");
      out.append(d.members().size()).append(" members\n");
      for (MemberDescription m : d.members()) {
        out.append("  member ")
            .append(m.consumerId())
            .append(" holds ")
            .append(m.assignment().topicPartitions())
            .append('\n');
      }
    } catch (Exception e) {
      out.append("  describe failed: ").append(e).append('\n');
    }
    Map<TopicPartition, OffsetAndMetadata> committed = kafka.committedOffsets(group);
    Map<TopicPartition, Long> ends = kafka.endOffsets(topic, partitions);
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    try (KafkaConsumer<byte[], byte[]> reader = new KafkaConsumer<>(props)) {
      for (int p = 0; p < partitions; p++) {
        TopicPartition tp = new TopicPartition(topic, p);
        OffsetAndMetadata c = committed.get(tp);
        long from = c == null ? 0 : c.offset();
        long end = ends.getOrDefault(tp, -1L);
        out.append("  partition ").append(p).append(": committed ");
        out.append(c == null ? "none" : Long.toString(from)).append(", end ").append(end);
        if (end > from) {
          reader.assign(List.of(tp));
          reader.seek(tp, from);
          long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
          int got = 0;
          while (got == 0 && System.nanoTime() < deadline) {
            ConsumerRecords<byte[], byte[]> records = reader.poll(Duration.ofMillis(200));
            got = records.records(tp).size();
          }
          out.append(got > 0 ? ", served to an outside reader" : ", NOT served in 5 s");
        }
        out.append('\n');
      }
    } catch (RuntimeException e) {
      out.append("  reading failed: ").append(e).append('\n');
    }
    return out.toString();
  }
}
