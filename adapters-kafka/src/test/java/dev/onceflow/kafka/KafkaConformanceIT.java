package dev.onceflow.kafka;

import static dev.onceflow.kafka.KafkaTestSupport.committed;
import static dev.onceflow.kafka.KafkaTestSupport.endOffsets;
import static dev.onceflow.kafka.KafkaTestSupport.kafka;
import static dev.onceflow.kafka.KafkaTestSupport.options;
import static dev.onceflow.kafka.KafkaTestSupport.readAll;
import static dev.onceflow.kafka.KafkaTestSupport.unique;

import dev.onceflow.core.Envelope;
import dev.onceflow.core.MessageSource;
import dev.onceflow.deadletter.DeadLetterSink;
import dev.onceflow.kafka.internal.KafkaEnvelopes;
import dev.onceflow.test.AdapterConformance;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.extension.ExtendWith;

/** The adapter conformance suite of onceflow-test, on the in-JVM Kafka broker. */
@ExtendWith(SharedKafka.class)
class KafkaConformanceIT extends AdapterConformance {

  private static final List<AutoCloseable> CLOSE = new CopyOnWriteArrayList<>();
  private static volatile KafkaPublisher publisher;

  @AfterAll
  static void close() throws Exception {
    for (AutoCloseable c : CLOSE) {
      c.close();
    }
    CLOSE.clear();
    publisher = null;
  }

  private static KafkaPublisher publisher() {
    KafkaPublisher p = publisher;
    if (p == null) {
      synchronized (CLOSE) {
        if (publisher == null) {
          publisher = KafkaPublisher.create(kafka().bootstrapServers());
          CLOSE.add(publisher);
        }
        p = publisher;
      }
    }
    return p;
  }

  private static String group(String topic) {
    return "conformance-" + topic;
  }

  private static String deadLetterTopic(String topic) {
    return topic + ".DLT";
  }

  @Override
  protected String newDestination() {
    String topic = unique("conformance");
    kafka().createTopic(topic, 1).createTopic(deadLetterTopic(topic), 1);
    return topic;
  }

  @Override
  protected MessageSource source(String destination) {
    return KafkaSource.create(options(destination, group(destination)).build());
  }

  @Override
  protected void publish(String destination, Envelope message) {
    publisher().publish(destination, message).block(timeout());
  }

  @Override
  protected DeadLetterSink deadLetterSink(String destination) {
    KafkaDeadLetter sink =
        KafkaDeadLetter.create(kafka().bootstrapServers(), deadLetterTopic(destination));
    CLOSE.add(sink);
    return sink;
  }

  @Override
  protected List<java.util.Map<String, String>> readDeadLetters(String destination, int count) {
    return readAll(deadLetterTopic(destination), count, timeout()).stream()
        .map(r -> KafkaEnvelopes.headers(r.headers()))
        .toList();
  }

  /** Records after the group's committed offset. */
  @Override
  protected long remaining(String destination) {
    long end = endOffsets(destination, 1)[0];
    long done = Math.max(0, committed(group(destination), destination, 1)[0]);
    return end - done;
  }
}
