package dev.onceflow.core;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The one header convention of every adapter: which header carries which envelope field.
 *
 * <p>Kafka carries these as record headers (UTF-8 values), RabbitMQ as AMQP headers (and the {@code
 * message-id}, {@code correlation-id} and {@code timestamp} properties where set), SQS as message
 * attributes of type String. Names use only letters, digits and hyphens so that they are valid on
 * all three brokers. Timestamps are ISO-8601 instants; numbers are decimal.
 */
public final class HeaderConvention {

  public static final String MESSAGE_ID = "onceflow-id";
  public static final String ENTITY_KEY = "onceflow-key";
  public static final String CORRELATION_ID = "onceflow-correlation-id";
  public static final String CAUSATION_ID = "onceflow-causation-id";
  public static final String PRODUCER_ID = "onceflow-producer-id";
  public static final String SEQUENCE = "onceflow-sequence";
  public static final String VERSION = "onceflow-version";
  public static final String TIMESTAMP = "onceflow-timestamp";

  /** Present (value {@code true}) on a message sent back from a dead-letter destination. */
  public static final String REDRIVE = "onceflow-redrive";

  /** Every convention header, in a stable order. */
  public static final List<String> ALL =
      List.of(
          MESSAGE_ID,
          ENTITY_KEY,
          CORRELATION_ID,
          CAUSATION_ID,
          PRODUCER_ID,
          SEQUENCE,
          VERSION,
          TIMESTAMP,
          REDRIVE);

  private HeaderConvention() {}

  /**
   * The convention headers for an envelope's fields (absent fields are left out), followed by the
   * envelope's other headers. The result is what a publisher puts on the wire.
   */
  public static Map<String, String> toHeaders(Envelope envelope) {
    Map<String, String> h = new LinkedHashMap<>();
    put(h, MESSAGE_ID, envelope.messageId());
    put(h, ENTITY_KEY, envelope.entityKey());
    put(h, CORRELATION_ID, envelope.correlationId());
    put(h, CAUSATION_ID, envelope.causationId());
    put(h, PRODUCER_ID, envelope.producerId());
    put(h, SEQUENCE, envelope.sequence());
    put(h, VERSION, envelope.version());
    put(h, TIMESTAMP, envelope.timestamp());
    if (envelope.redrive()) {
      h.put(REDRIVE, "true");
    }
    envelope.headers().forEach(h::putIfAbsent);
    return h;
  }

  /**
   * Fills a builder from wire headers: the convention headers set the envelope's fields, and every
   * header (convention ones included) is kept in {@link Envelope#headers()}. A convention header
   * that cannot be parsed leaves its field empty and is reported through {@link
   * Envelope.Builder#malformation(String)}; this method never throws on bad input.
   *
   * @return the builder, for chaining
   */
  public static Envelope.Builder apply(Envelope.Builder builder, Map<String, String> headers) {
    List<String> problems = new ArrayList<>();
    builder.headers(headers);
    builder.messageId(headers.get(MESSAGE_ID));
    builder.entityKey(headers.get(ENTITY_KEY));
    builder.correlationId(headers.get(CORRELATION_ID));
    builder.causationId(headers.get(CAUSATION_ID));
    builder.producerId(headers.get(PRODUCER_ID));
    builder.sequence(parseLong(headers, SEQUENCE, problems));
    builder.version(parseLong(headers, VERSION, problems));
    String ts = headers.get(TIMESTAMP);
    if (ts != null) {
      try {
        builder.timestamp(Instant.parse(ts));
      } catch (DateTimeParseException e) {
        problems.add(TIMESTAMP + " is not an ISO-8601 instant: '" + abbreviate(ts) + "'");
      }
    }
    builder.redrive("true".equalsIgnoreCase(headers.get(REDRIVE)));
    if (!problems.isEmpty()) {
      builder.malformation(String.join("; ", problems));
    }
    return builder;
  }

  private static @Nullable Long parseLong(
      Map<String, String> headers, String name, List<String> problems) {
    String v = headers.get(name);
    if (v == null) {
      return null;
    }
    try {
      return Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      problems.add(name + " is not a whole number: '" + abbreviate(v) + "'");
      return null;
    }
  }

  private static String abbreviate(String v) {
    return v.length() <= 40 ? v : v.substring(0, 40) + "…";
  }

  private static void put(Map<String, String> h, String name, @Nullable Object value) {
    if (value != null) {
      h.put(name, value.toString());
    }
  }
}
