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
import dev.onceflow.kafka.internal.KafkaEnvelopes;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

@ExtendWith(SharedKafka.class)
class KafkaPublisherIT {

  private static final Duration T = Duration.ofSeconds(30);

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static Envelope keyed(String key, String payload) {
    return Envelope.builder().entityKey(key).payload(bytes(payload)).build();
  }

  @Test
  void stampsAStableIdTheProducerIdAndASequencePerTopic() {
    String a = unique("pub-a");
    String b = unique("pub-b");
    kafka().createTopic(a, 1).createTopic(b, 1);
    try (KafkaPublisher publisher = KafkaPublisher.create(kafka().bootstrapServers())) {
      KafkaPublishResult r1 = publisher.publish(a, keyed("k1", "one")).block(T);
      publisher.publish(a, keyed("k2", "two")).block(T);
      publisher.publish(a, Envelope.builder().payload(bytes("three")).build()).block(T);
      KafkaPublishResult rb = publisher.publish(b, keyed("k", "other")).block(T);

      assertThat(r1.topic()).isEqualTo(a);
      assertThat(r1.destination()).isEqualTo(a);
      assertThat(r1.offset()).isZero();
      assertThat(r1.sequence()).isEqualTo(1);
      assertThat(r1.producerId()).isEqualTo(publisher.producerId());
      assertThat(rb.sequence()).as("sequences count per topic").isEqualTo(1);

      List<ConsumerRecord<byte[], byte[]>> read = readAll(a, 3, T);
      assertThat(read).hasSize(3);
      List<Map<String, String>> headers =
          read.stream().map(r -> KafkaEnvelopes.headers(r.headers())).toList();
      assertThat(headers)
          .extracting(h -> h.get(HeaderConvention.SEQUENCE))
          .containsExactly("1", "2", "3");
      assertThat(headers)
          .extracting(h -> h.get(HeaderConvention.PRODUCER_ID))
          .containsOnly(publisher.producerId());
      assertThat(headers)
          .extracting(h -> h.get(HeaderConvention.MESSAGE_ID))
          .doesNotHaveDuplicates();
      assertThat(headers.get(0))
          .containsEntry(HeaderConvention.MESSAGE_ID, r1.messageId())
          .containsEntry(HeaderConvention.ENTITY_KEY, "k1")
          .containsKey(HeaderConvention.TIMESTAMP);
      assertThat(headers.get(2)).doesNotContainKey(HeaderConvention.ENTITY_KEY);
      assertThat(utf8(read.get(0).key())).isEqualTo("k1");
    }
  }

  @Test
  void resubscribingTheSameMonoSendsTheSameIdAndSequence() {
    String topic = unique("pub-retry");
    kafka().createTopic(topic, 1);
    try (KafkaPublisher publisher = KafkaPublisher.create(kafka().bootstrapServers())) {
      Mono<KafkaPublishResult> once = publisher.publish(topic, keyed("k", "x"));
      KafkaPublishResult first = once.block(T);
      KafkaPublishResult retried = once.block(T);

      assertThat(retried.messageId()).isEqualTo(first.messageId());
      assertThat(retried.sequence()).isEqualTo(first.sequence());
      assertThat(retried.offset()).isEqualTo(first.offset() + 1);
      List<ConsumerRecord<byte[], byte[]>> read = readAll(topic, 2, T);
      assertThat(read)
          .extracting(r -> KafkaEnvelopes.headers(r.headers()).get(HeaderConvention.MESSAGE_ID))
          .containsExactly(first.messageId(), first.messageId());
    }
  }

  @Test
  void idsAndProducerValuesAlreadyPresentAreKept() {
    String topic = unique("pub-keep");
    kafka().createTopic(topic, 1);
    Envelope redriven =
        Envelope.builder()
            .messageId("original-id")
            .entityKey("order-1")
            .producerId("upstream")
            .sequence(41L)
            .redrive(true)
            .payload(bytes("p"))
            .origin(Origin.kafka("orders.DLT", 0, 5))
            .build();
    try (KafkaPublisher publisher =
        KafkaPublisher.create(
            KafkaPublisherOptions.builder()
                .bootstrapServers(kafka().bootstrapServers())
                .producerId("mine")
                .firstSequence(100)
                .build())) {
      KafkaPublishResult r1 = publisher.publish(topic, "given-id", bytes("x")).block(T);
      KafkaPublishResult r2 = publisher.publish(topic, redriven).block(T);

      assertThat(r1.messageId()).isEqualTo("given-id");
      assertThat(r1.producerId()).isEqualTo("mine");
      assertThat(r1.sequence()).isEqualTo(100);
      assertThat(r2.messageId()).isEqualTo("original-id");
      assertThat(r2.producerId()).isEqualTo("upstream");
      assertThat(r2.sequence()).isEqualTo(41);
      List<ConsumerRecord<byte[], byte[]>> read = readAll(topic, 2, T);
      assertThat(read.get(0).key()).as("the id is never the record key").isNull();
      assertThat(KafkaEnvelopes.headers(read.get(0).headers()))
          .containsEntry(HeaderConvention.MESSAGE_ID, "given-id");
      Map<String, String> h = KafkaEnvelopes.headers(read.get(1).headers());
      assertThat(utf8(read.get(1).key())).isEqualTo("order-1");
      assertThat(h)
          .containsEntry(HeaderConvention.MESSAGE_ID, "original-id")
          .containsEntry(HeaderConvention.REDRIVE, "true")
          .containsEntry(HeaderConvention.ENTITY_KEY, "order-1");
    }
  }

  @Test
  void theRecordKeyIsANamedOptionAndNeverTheMessageId() {
    String topic = unique("pub-key");
    kafka().createTopic(topic, 1);
    try (KafkaPublisher publisher =
        KafkaPublisher.create(
            KafkaPublisherOptions.builder()
                .bootstrapServers(kafka().bootstrapServers())
                .recordKey(e -> e.headers().get("tenant"))
                .build())) {
      KafkaPublishResult r =
          publisher
              .publish(
                  topic,
                  Envelope.builder()
                      .messageId("order-7")
                      .entityKey("customer-1")
                      .header("tenant", "acme")
                      .payload(bytes("x"))
                      .build())
              .block(T);
      assertThat(r.messageId()).isEqualTo("order-7");
      ConsumerRecord<byte[], byte[]> read = readAll(topic, 1, T).get(0);
      assertThat(utf8(read.key())).isEqualTo("acme");
      assertThat(KafkaEnvelopes.headers(read.headers()))
          .containsEntry(HeaderConvention.MESSAGE_ID, "order-7")
          .containsEntry(HeaderConvention.ENTITY_KEY, "customer-1");
    }
  }

  @Test
  void aFailedSendIsAKafkaOperationExceptionNamingTopicAndMessageId() {
    String missing = unique("no-such-topic"); // auto-creation is off on the test broker
    KafkaPublisherOptions options =
        KafkaPublisherOptions.builder()
            .bootstrapServers(kafka().bootstrapServers())
            .producerProperty(ProducerConfig.MAX_BLOCK_MS_CONFIG, 1000)
            .build();
    try (KafkaPublisher publisher = KafkaPublisher.create(options)) {
      StepVerifier.create(publisher.publish(missing, "m-9", bytes("x")))
          .expectErrorSatisfies(
              e -> {
                assertOperationFailed(e, KafkaOperationException.SEND, missing)
                    .isInstanceOf(KafkaOperationException.class)
                    .hasMessageContaining("m-9");
                assertThat(((KafkaOperationException) e).messageId()).isEqualTo("m-9");
              })
          .verify(T);
    }
  }
}
