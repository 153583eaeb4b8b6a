package dev.onceflow.kafka;

import static dev.onceflow.kafka.KafkaTestSupport.kafka;
import static dev.onceflow.kafka.KafkaTestSupport.readAll;
import static dev.onceflow.kafka.KafkaTestSupport.unique;
import static dev.onceflow.kafka.KafkaTestSupport.utf8;
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
    try (KafkaDeadLetter sink = KafkaDeadLetter.to(kafka().bootstrapServers(), dlq)) {
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
          .expectErrorSatisfies(e -> assertThat(e).hasMessageContaining(missing))
          .verify(Duration.ofSeconds(30));
    }
  }
}
