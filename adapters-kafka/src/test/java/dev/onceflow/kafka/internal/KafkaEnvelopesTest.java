package dev.onceflow.kafka.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.onceflow.core.BrokerKind;
import dev.onceflow.core.Envelope;
import dev.onceflow.core.HeaderConvention;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

class KafkaEnvelopesTest {

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static ConsumerRecord<byte[], byte[]> record(
      byte[] key, byte[] value, RecordHeaders headers, long timestamp, TimestampType type) {
    return new ConsumerRecord<>(
        "orders", 3, 1042, timestamp, type, -1, -1, key, value, headers, Optional.empty());
  }

  @Test
  void conventionHeadersSetTheFieldsAndOriginIsTopicPartitionOffset() {
    RecordHeaders h = new RecordHeaders();
    h.add(HeaderConvention.MESSAGE_ID, utf8("m-1"));
    h.add(HeaderConvention.ENTITY_KEY, utf8("customer-7"));
    h.add(HeaderConvention.CORRELATION_ID, utf8("c-1"));
    h.add(HeaderConvention.CAUSATION_ID, utf8("m-0"));
    h.add(HeaderConvention.PRODUCER_ID, utf8("p-1"));
    h.add(HeaderConvention.SEQUENCE, utf8("17"));
    h.add(HeaderConvention.VERSION, utf8("4"));
    h.add(HeaderConvention.TIMESTAMP, utf8("2026-01-02T03:04:05Z"));
    h.add("traceparent", utf8("00-abc"));

    Envelope e =
        KafkaEnvelopes.toEnvelope(
            record(utf8("record-key"), utf8("{}"), h, 5L, TimestampType.CREATE_TIME), false, null);

    assertThat(e.messageId()).isEqualTo("m-1");
    assertThat(e.entityKey()).as("the header wins over the record key").isEqualTo("customer-7");
    assertThat(e.correlationId()).isEqualTo("c-1");
    assertThat(e.causationId()).isEqualTo("m-0");
    assertThat(e.producerId()).isEqualTo("p-1");
    assertThat(e.sequence()).isEqualTo(17L);
    assertThat(e.version()).isEqualTo(4L);
    assertThat(e.timestamp()).isEqualTo(Instant.parse("2026-01-02T03:04:05Z"));
    assertThat(e.headers()).containsEntry("traceparent", "00-abc").hasSize(9);
    assertThat(new String(e.payload(), StandardCharsets.UTF_8)).isEqualTo("{}");
    assertThat(e.origin().broker()).isEqualTo(BrokerKind.KAFKA);
    assertThat(e.origin().destination()).isEqualTo("orders");
    assertThat(e.origin().partition()).isEqualTo(3);
    assertThat(e.origin().offset()).isEqualTo(1042);
    assertThat(e.origin().attempt()).isZero();
    assertThat(e.origin().redelivered()).isFalse();
    assertThat(e.malformation()).isNull();
  }

  @Test
  void withoutConventionHeadersTheRecordKeyAndCreateTimeAreUsedAndThereIsNoId() {
    Envelope e =
        KafkaEnvelopes.toEnvelope(
            record(utf8("k"), null, new RecordHeaders(), 1_000L, TimestampType.CREATE_TIME),
            true,
            null);

    assertThat(e.messageId()).isNull();
    assertThat(e.entityKey()).isEqualTo("k");
    assertThat(e.timestamp()).isEqualTo(Instant.ofEpochMilli(1_000));
    assertThat(e.payloadSize()).as("a tombstone is an empty payload").isZero();
    assertThat(e.origin().redelivered()).isTrue();
  }

  @Test
  void logAppendTimeIsNotAProducerTimestampAndMalformedHeadersAreReported() {
    RecordHeaders h = new RecordHeaders();
    h.add(HeaderConvention.MESSAGE_ID, utf8("m-2"));
    h.add(HeaderConvention.SEQUENCE, utf8("not-a-number"));
    Envelope e =
        KafkaEnvelopes.toEnvelope(
            record(null, utf8("x"), h, 1_000L, TimestampType.LOG_APPEND_TIME), false, null);

    assertThat(e.timestamp()).isNull();
    assertThat(e.entityKey()).isNull();
    assertThat(e.sequence()).isNull();
    assertThat(e.malformation()).contains(HeaderConvention.SEQUENCE);
  }

  @Test
  void theIdComesFromTheConfiguredHeaderThenOnceflowIdThenTheCloudEventsId() {
    RecordHeaders cloud = new RecordHeaders();
    cloud.add("ce_id", utf8("evt-1"));
    cloud.add("ce_source", utf8("/billing"));
    assertThat(
            KafkaEnvelopes.toEnvelope(
                    record(null, utf8("x"), cloud, 1L, TimestampType.CREATE_TIME), false, null)
                .messageId())
        .isEqualTo("evt-1");

    RecordHeaders custom = new RecordHeaders();
    custom.add("X-Message-Id", utf8("custom-1"));
    custom.add(HeaderConvention.MESSAGE_ID, utf8("m-1"));
    assertThat(
            KafkaEnvelopes.toEnvelope(
                    record(null, utf8("x"), custom, 1L, TimestampType.CREATE_TIME),
                    false,
                    "X-Message-Id")
                .messageId())
        .isEqualTo("custom-1");
    assertThat(
            KafkaEnvelopes.toEnvelope(
                    record(null, utf8("x"), custom, 1L, TimestampType.CREATE_TIME), false, null)
                .messageId())
        .isEqualTo("m-1");
  }

  @Test
  void headersRoundTripAsUtf8AndTheLastValueOfARepeatedHeaderWins() {
    RecordHeaders h = KafkaEnvelopes.toRecordHeaders(Map.of("a", "é"));
    h.add("a", utf8("second"));
    h.add("nullValue", null);

    assertThat(KafkaEnvelopes.headers(h)).containsExactly(Map.entry("a", "second"));
    assertThat(new String(h.headers("a").iterator().next().value(), StandardCharsets.UTF_8))
        .isEqualTo("é");
  }
}
