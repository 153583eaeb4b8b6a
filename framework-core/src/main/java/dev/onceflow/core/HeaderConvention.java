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
 *
 * <h2>Where the message id comes from</h2>
 *
 * Producers that are not onceflow put the id elsewhere. {@link #messageId(Map, String)} takes the
 * first of these that is present and not blank:
 *
 * <ol>
 *   <li>the header the user configured for the id (each source's {@code idHeader} option, such as
 *       {@code X-Message-Id}), when one is configured;
 *   <li>{@link #MESSAGE_ID} ({@code onceflow-id});
 *   <li>a CloudEvents binary-mode id, {@link #CLOUDEVENTS_ID_HEADERS}: {@code ce_id} (Kafka),
 *       {@code ce-id} (HTTP, and SQS attributes), {@code cloudEvents:id} and {@code cloudEvents_id}
 *       (AMQP).
 * </ol>
 *
 * A RabbitMQ source then falls back to the AMQP {@code message-id} property. Header names are
 * matched exactly (case-sensitive), as the brokers store them. CloudEvents ids are unique per event
 * {@code source}: where several sources share a destination and may reuse ids, deduplicate by
 * source and id together ({@code Dedup.byKey(store, e -> e.headers().get("ce_source") + "/" +
 * e.messageId())}).
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

  /** The CloudEvents id in Kafka binary mode (the Kafka protocol binding's {@code ce_} prefix). */
  public static final String CLOUDEVENTS_ID_KAFKA = "ce_id";

  /** The CloudEvents id in HTTP binary mode ({@code ce-} prefix); also used on SQS. */
  public static final String CLOUDEVENTS_ID_HTTP = "ce-id";

  /** The CloudEvents id as an AMQP application property ({@code cloudEvents:} prefix). */
  public static final String CLOUDEVENTS_ID_AMQP = "cloudEvents:id";

  /** The AMQP binding's alternative prefix {@code cloudEvents_}, for JMS-safe names. */
  public static final String CLOUDEVENTS_ID_AMQP_ALT = "cloudEvents_id";

  /** The CloudEvents id headers recognised on every broker, in the order they are tried. */
  public static final List<String> CLOUDEVENTS_ID_HEADERS =
      List.of(
          CLOUDEVENTS_ID_KAFKA, CLOUDEVENTS_ID_HTTP, CLOUDEVENTS_ID_AMQP, CLOUDEVENTS_ID_AMQP_ALT);

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
   * The message id carried by wire headers: the configured id header, else {@code onceflow-id},
   * else a CloudEvents id; see the class documentation. Blank values are skipped.
   *
   * @param idHeader the header the user configured for the id, or null for none
   * @return the id, or null when no header carries one
   */
  public static @Nullable String messageId(Map<String, String> headers, @Nullable String idHeader) {
    if (idHeader != null) {
      String v = headers.get(idHeader);
      if (v != null && !v.isBlank()) {
        return v;
      }
    }
    String v = headers.get(MESSAGE_ID);
    if (v != null && !v.isBlank()) {
      return v;
    }
    for (String name : CLOUDEVENTS_ID_HEADERS) {
      v = headers.get(name);
      if (v != null && !v.isBlank()) {
        return v;
      }
    }
    return null;
  }

  /**
   * {@link #apply(Envelope.Builder, Map, String)} without a configured id header: the id comes from
   * {@code onceflow-id} or a CloudEvents id header.
   *
   * @return the builder, for chaining
   */
  public static Envelope.Builder apply(Envelope.Builder builder, Map<String, String> headers) {
    return apply(builder, headers, null);
  }

  /**
   * Fills a builder from wire headers: the convention headers set the envelope's fields, the id
   * comes from {@link #messageId(Map, String)}, and every header (convention ones included) is kept
   * in {@link Envelope#headers()}. A convention header that cannot be parsed leaves its field empty
   * and is reported through {@link Envelope.Builder#malformation(String)}; this method never throws
   * on bad input.
   *
   * @param idHeader the header the user configured for the id, or null for none
   * @return the builder, for chaining
   */
  public static Envelope.Builder apply(
      Envelope.Builder builder, Map<String, String> headers, @Nullable String idHeader) {
    List<String> problems = new ArrayList<>();
    builder.headers(headers);
    builder.messageId(messageId(headers, idHeader));
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
