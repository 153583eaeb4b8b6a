package dev.onceflow.kafka;

import static dev.onceflow.kafka.KafkaTestSupport.kafka;
import static dev.onceflow.kafka.KafkaTestSupport.readAll;
import static dev.onceflow.kafka.KafkaTestSupport.unique;
import static dev.onceflow.kafka.KafkaTestSupport.utf8;
import static dev.onceflow.test.OperationFailures.assertOperationFailed;
import static org.assertj.core.api.Assertions.assertThat;

import dev.onceflow.core.Envelope;
import dev.onceflow.core.HeaderConvention;
import dev.onceflow.core.Origin;
import dev.onceflow.deadletter.DeadLetter;
import dev.onceflow.deadletter.DeadLetterReason;
import dev.onceflow.kafka.internal.KafkaEnvelopes;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.test.StepVerifier;

@ExtendWith(SharedKafka.class)
class KafkaDeadLetterIT {

  private static DeadLetter deadLetter() {
    Envelope original =
        Envelope.builder()
            .messageId("m-1")
            .entityKey("order-9")
            .correlationId("c-1")
            .header("traceparent", "00-abc")
            .payload("boom".getBytes(StandardCharsets.UTF_8))
            .origin(Origin.kafka("orders", 2, 77))
            .build();
    return new DeadLetter(
        original,
        DeadLetterReason.HANDLER_FAILED,
        IllegalStateException.class.getName(),
        "card declined",
        3,
        Instant.parse("2026-01-01T00:00:00Z"),
        Instant.parse("2026-01-01T00:00:02Z"),
        "orders-pipeline",
        "m-1");
  }

  @Test
  void theDeadLetterCarriesTheOriginalKeyValueHeadersAndAllDeadLetterHeaders() {
    String dlq = unique("orders.DLT");
    kafka().createTopic(dlq, 1);
    DeadLetter dl = deadLetter();
    try (KafkaDeadLetter sink = KafkaDeadLetter.create(kafka().bootstrapServers(), dlq)) {
      assertThat(sink.topic()).isEqualTo(dlq);
      StepVerifier.create(sink.publish(dl)).expectComplete().verify(Duration.ofSeconds(30));
    }

    List<ConsumerRecord<byte[], byte[]>> records = readAll(dlq, 1, Duration.ofSeconds(30));
    assertThat(records).hasSize(1);
    ConsumerRecord<byte[], byte[]> r = records.get(0);
    assertThat(utf8(r.key())).isEqualTo("order-9");
    assertThat(utf8(r.value())).isEqualTo("boom");
    Map<String, String> headers = KafkaEnvelopes.headers(r.headers());
    assertThat(headers).containsAllEntriesOf(dl.headers());
    assertThat(headers)
        .containsEntry(HeaderConvention.MESSAGE_ID, "m-1")
        .containsEntry(HeaderConvention.CORRELATION_ID, "c-1")
        .containsEntry("traceparent", "00-abc")
        .containsEntry(DeadLetter.REASON, "HANDLER_FAILED")
        .containsEntry(DeadLetter.EXCEPTION_CLASS, IllegalStateException.class.getName())
        .containsEntry(DeadLetter.EXCEPTION_MESSAGE, "card declined")
        .containsEntry(DeadLetter.ATTEMPTS, "3")
        .containsEntry(DeadLetter.FIRST_FAILURE, "2026-01-01T00:00:00Z")
        .containsEntry(DeadLetter.LAST_FAILURE, "2026-01-01T00:00:02Z")
        .containsEntry(DeadLetter.PIPELINE, "orders-pipeline")
        .containsEntry(DeadLetter.DEDUP_KEY, "m-1")
        .containsEntry(DeadLetter.ORIGIN, "kafka:orders/2@77")
        .containsEntry(DeadLetter.ORIGIN_DESTINATION, "orders")
        .containsEntry(DeadLetter.ORIGIN_PARTITION, "2")
        .containsEntry(DeadLetter.ORIGIN_OFFSET, "77");
  }

  @Test
  void publishErrorsWhenTheBrokerDoesNotAcceptTheDeadLetter() {
    String missing = unique("no-such-topic"); // auto-creation is off on the test broker
    try (KafkaDeadLetter sink =
        KafkaDeadLetter.create(
            KafkaDeadLetterOptions.builder()
                .bootstrapServers(kafka().bootstrapServers())
                .topic(missing)
                .producerProperty(ProducerConfig.MAX_BLOCK_MS_CONFIG, 1000)
                .build())) {
      StepVerifier.create(sink.publish(deadLetter()))
          .expectErrorSatisfies(
              e -> assertOperationFailed(e, KafkaOperationException.SEND, missing))
          .verify(Duration.ofSeconds(30));
    }
  }

  @Test
  void readyFailsAtOnceNamingAMissingTopic() {
    String missing = unique("missing.DLT");
    try (KafkaDeadLetter sink = KafkaDeadLetter.create(kafka().bootstrapServers(), missing)) {
      long t0 = System.nanoTime();
      StepVerifier.create(sink.ready())
          .expectErrorSatisfies(
              e ->
                  assertOperationFailed(e, KafkaOperationException.CHECK_TOPIC, missing)
                      .isInstanceOf(KafkaOperationException.class)
                      .hasMessageContaining("does not exist")
                      .hasMessageContaining("createTopic(true)"))
          .verify(Duration.ofSeconds(30));
      assertThat(Duration.ofNanos(System.nanoTime() - t0))
          .as("fails fast, not after the producer's 60 s metadata wait")
          .isLessThan(Duration.ofSeconds(10));
    }
    assertThat(topicExists(missing)).isFalse();
  }

  @Test
  void readyCreatesAMissingTopicWhenAllowedAndThenDeadLettersLand() {
    String topic = unique("created.DLT");
    try (KafkaDeadLetter sink =
        KafkaDeadLetter.create(
            KafkaDeadLetterOptions.builder()
                .bootstrapServers(kafka().bootstrapServers())
                .topic(topic)
                .createTopic(true)
                .topicPartitions(2)
                .topicReplicationFactor(1)
                .build())) {
      StepVerifier.create(sink.ready()).expectComplete().verify(Duration.ofSeconds(30));
      assertThat(topicExists(topic)).isTrue();
      assertThat(partitions(topic)).isEqualTo(2);
      StepVerifier.create(sink.ready())
          .as("again: it exists")
          .expectComplete()
          .verify(Duration.ofSeconds(30));
      StepVerifier.create(sink.publish(deadLetter()))
          .expectComplete()
          .verify(Duration.ofSeconds(30));
    }
    assertThat(readAll(topic, 1, Duration.ofSeconds(30))).hasSize(1);
  }

  @Test
  void readyCompletesForAnExistingTopicAndFailsWithTheBrokersWhenTheyDoNotAnswer() {
    String topic = unique("exists.DLT");
    kafka().createTopic(topic, 1);
    try (KafkaDeadLetter sink = KafkaDeadLetter.create(kafka().bootstrapServers(), topic)) {
      StepVerifier.create(sink.ready()).expectComplete().verify(Duration.ofSeconds(30));
    }
    try (KafkaDeadLetter sink =
        KafkaDeadLetter.create(
            KafkaDeadLetterOptions.builder()
                .bootstrapServers("127.0.0.1:1")
                .topic(topic)
                .readyTimeout(Duration.ofSeconds(2))
                .build())) {
      StepVerifier.create(sink.ready())
          .expectErrorSatisfies(
              e ->
                  assertThat(e)
                      .isInstanceOf(KafkaOperationException.class)
                      .hasMessageContaining(topic)
                      .hasMessageContaining("127.0.0.1:1"))
          .verify(Duration.ofSeconds(30));
    }
  }

  private static boolean topicExists(String topic) {
    try {
      return kafka().admin().listTopics().names().get(10, TimeUnit.SECONDS).contains(topic);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static int partitions(String topic) {
    try {
      return kafka()
          .admin()
          .describeTopics(List.of(topic))
          .allTopicNames()
          .get(10, TimeUnit.SECONDS)
          .get(topic)
          .partitions()
          .size();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
