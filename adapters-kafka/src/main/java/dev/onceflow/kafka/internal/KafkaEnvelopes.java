package dev.onceflow.kafka.internal;

import dev.onceflow.core.BrokerKind;
import dev.onceflow.core.Envelope;
import dev.onceflow.core.HeaderConvention;
import dev.onceflow.core.Origin;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.jspecify.annotations.Nullable;

/** Maps Kafka records to envelopes and headers back, following {@link HeaderConvention}. */
public final class KafkaEnvelopes {

  private static final byte[] EMPTY = new byte[0];

  private KafkaEnvelopes() {}

  /**
   * The envelope of a record: convention headers (UTF-8) set the fields; without an {@code
   * onceflow-key} header the record key (UTF-8) is the entity key; without an {@code
   * onceflow-timestamp} header a producer (CreateTime) timestamp is the timestamp; a null value is
   * an empty payload. The attempt is 0: Kafka does not count deliveries.
   *
   * @param idHeader the header that carries the message id before the convention's, or null; see
   *     {@link HeaderConvention#messageId}
   */
  public static Envelope toEnvelope(
      ConsumerRecord<byte[], byte[]> record, boolean redelivered, @Nullable String idHeader) {
    Map<String, String> headers = headers(record.headers());
    Envelope.Builder b = Envelope.builder();
    HeaderConvention.apply(b, headers, idHeader);
    String keyHeader = headers.get(HeaderConvention.ENTITY_KEY);
    if ((keyHeader == null || keyHeader.isBlank()) && record.key() != null) {
      b.entityKey(new String(record.key(), StandardCharsets.UTF_8));
    }
    if (!headers.containsKey(HeaderConvention.TIMESTAMP)
        && record.timestampType() == TimestampType.CREATE_TIME
        && record.timestamp() >= 0) {
      b.timestamp(Instant.ofEpochMilli(record.timestamp()));
    }
    byte[] value = record.value();
    b.payloadUnsafe(value == null ? EMPTY : value);
    b.origin(origin(record, redelivered));
    return b.build();
  }

  /** The origin of a record; the attempt is unknown (0). */
  public static Origin origin(ConsumerRecord<?, ?> record, boolean redelivered) {
    return new Origin(
        BrokerKind.KAFKA,
        record.topic(),
        record.partition(),
        record.offset(),
        null,
        null,
        redelivered,
        0);
  }

  /**
   * Record headers as strings (UTF-8). A header present more than once keeps its last value, as
   * {@link Headers#lastHeader(String)} does; headers with a null value are left out.
   */
  public static Map<String, String> headers(Headers headers) {
    Map<String, String> out = new LinkedHashMap<>();
    for (Header h : headers) {
      byte[] v = h.value();
      if (v != null) {
        out.put(h.key(), new String(v, StandardCharsets.UTF_8));
      }
    }
    return out;
  }

  /** String headers as record headers (UTF-8), in map order. */
  public static RecordHeaders toRecordHeaders(Map<String, String> headers) {
    RecordHeaders out = new RecordHeaders();
    headers.forEach((k, v) -> out.add(k, v.getBytes(StandardCharsets.UTF_8)));
    return out;
  }
}
