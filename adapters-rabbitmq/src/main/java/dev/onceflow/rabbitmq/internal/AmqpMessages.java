package dev.onceflow.rabbitmq.internal;

import com.rabbitmq.client.LongString;
import dev.onceflow.core.BrokerKind;
import dev.onceflow.core.Envelope;
import dev.onceflow.core.HeaderConvention;
import dev.onceflow.core.Origin;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.core.MessageDeliveryMode;
import org.springframework.amqp.core.MessageProperties;

/** The mapping between AMQP messages and envelopes. Stateless and thread-safe. */
public final class AmqpMessages {

  /** RabbitMQ's count of earlier deliveries of a message (quorum queues). */
  public static final String X_DELIVERY_COUNT = "x-delivery-count";

  /**
   * How many attempts a message had before it went through the retry queue: set by the retry-queue
   * redelivery, so that attempts keep counting across the republish.
   */
  public static final String DELAYED_ATTEMPTS = "onceflow-delayed-attempts";

  /** Headers spring-amqp adds for its own bookkeeping; they are not the message's. */
  private static final Set<String> INTERNAL_HEADERS =
      Set.of("spring_returned_message_correlation", "spring_listener_return_correlation");

  private AmqpMessages() {}

  /**
   * The envelope of a received message. Message id: the configured id header, else the {@code
   * onceflow-id} header, else a CloudEvents id header ({@link HeaderConvention#messageId}), else
   * the {@code message-id} property. Correlation id: the {@code correlation-id} property, else the
   * {@code onceflow-correlation-id} header. Timestamp: the {@code onceflow-timestamp} header
   * (millisecond precision) when it parses, else the {@code timestamp} property (second precision).
   * Every other field comes from the headers through {@link HeaderConvention#apply}.
   *
   * @param idHeader the header that carries the message id first, or null
   */
  public static Envelope toEnvelope(
      Message message, String queue, String receipt, @Nullable String idHeader) {
    MessageProperties p = message.getMessageProperties();
    Map<String, String> headers = stringHeaders(p.getHeaders());
    Envelope.Builder b = Envelope.builder();
    HeaderConvention.apply(b, headers, idHeader);
    if (HeaderConvention.messageId(headers, idHeader) == null
        && p.getMessageId() != null
        && !p.getMessageId().isBlank()) {
      b.messageId(p.getMessageId());
    }
    if (p.getCorrelationId() != null && !p.getCorrelationId().isBlank()) {
      b.correlationId(p.getCorrelationId());
    }
    if (!timestampHeaderParses(headers.get(HeaderConvention.TIMESTAMP))
        && p.getTimestamp() != null) {
      b.timestamp(p.getTimestamp().toInstant());
    }
    boolean redelivered = Boolean.TRUE.equals(p.getRedelivered());
    b.payloadUnsafe(message.getBody());
    b.origin(
        new Origin(
            BrokerKind.RABBITMQ,
            queue,
            -1,
            -1,
            null,
            receipt,
            redelivered,
            attempt(p.getHeaders(), redelivered)));
    return b.build();
  }

  /**
   * The delivery attempt: 1 + the attempts before a retry-queue republish + {@code
   * x-delivery-count} (quorum queues). On a classic queue a redelivered message without a count
   * gets one more than that: a lower bound, since RabbitMQ does not tell how many times.
   */
  public static int attempt(Map<String, @Nullable Object> headers, boolean redelivered) {
    long prior = Math.max(0, number(headers.get(DELAYED_ATTEMPTS)));
    long count = number(headers.get(X_DELIVERY_COUNT));
    long attempt = prior + 1 + Math.max(0, count);
    if (count < 0 && redelivered) {
      attempt++;
    }
    return (int) Math.min(Integer.MAX_VALUE, attempt);
  }

  /** Header values as strings; values with no string form (lists, tables) are left out. */
  public static Map<String, String> stringHeaders(Map<String, @Nullable Object> headers) {
    Map<String, String> out = new LinkedHashMap<>();
    headers.forEach(
        (name, value) -> {
          if (INTERNAL_HEADERS.contains(name)) {
            return;
          }
          String s = asString(value);
          if (s != null) {
            out.put(name, s);
          }
        });
    return out;
  }

  /**
   * An AMQP message for an envelope, as a publisher puts it on the wire: the payload, the {@code
   * message-id}, {@code correlation-id} and {@code timestamp} properties from the envelope, the
   * given headers, persistent delivery.
   */
  public static Message toMessage(Envelope envelope, Map<String, String> headers) {
    MessageProperties p = new MessageProperties();
    p.setDeliveryMode(MessageDeliveryMode.PERSISTENT);
    p.setContentType(MessageProperties.CONTENT_TYPE_BYTES);
    if (envelope.messageId() != null) {
      p.setMessageId(envelope.messageId());
    }
    if (envelope.correlationId() != null) {
      p.setCorrelationId(envelope.correlationId());
    }
    Instant ts = envelope.timestamp();
    if (ts != null) {
      p.setTimestamp(Date.from(ts));
    }
    headers.forEach(p::setHeader);
    return new Message(envelope.payload(), p);
  }

  /**
   * A copy of a received message for the retry queue: same body, properties and headers (minus
   * {@code x-delivery-count}, which the broker sets), {@link #DELAYED_ATTEMPTS} set to the attempt
   * that just failed, and a per-message TTL of {@code delayMillis}.
   */
  public static Message retryCopy(Message original, int attempt, long delayMillis) {
    MessageProperties o = original.getMessageProperties();
    MessageProperties p = new MessageProperties();
    p.setDeliveryMode(MessageDeliveryMode.PERSISTENT);
    p.setContentType(o.getContentType());
    p.setContentEncoding(o.getContentEncoding());
    p.setMessageId(o.getMessageId());
    p.setCorrelationId(o.getCorrelationId());
    p.setTimestamp(o.getTimestamp());
    p.setType(o.getType());
    p.setAppId(o.getAppId());
    p.setReplyTo(o.getReplyTo());
    if (o.getPriority() != null) {
      p.setPriority(o.getPriority());
    }
    o.getHeaders()
        .forEach(
            (name, value) -> {
              if (value != null
                  && !X_DELIVERY_COUNT.equals(name)
                  && !INTERNAL_HEADERS.contains(name)) {
                p.setHeader(name, value);
              }
            });
    p.setHeader(DELAYED_ATTEMPTS, Integer.toString(attempt));
    p.setExpiration(Long.toString(Math.max(1, delayMillis)));
    return new Message(original.getBody(), p);
  }

  private static boolean timestampHeaderParses(@Nullable String value) {
    if (value == null) {
      return false;
    }
    try {
      Instant.parse(value);
      return true;
    } catch (RuntimeException e) {
      return false;
    }
  }

  private static long number(@Nullable Object value) {
    if (value instanceof Number n) {
      return n.longValue();
    }
    String s = asString(value);
    if (s == null) {
      return -1;
    }
    try {
      return Long.parseLong(s.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static @Nullable String asString(@Nullable Object value) {
    if (value == null) {
      return null;
    }
    if (value instanceof String s) {
      return s;
    }
    if (value instanceof LongString ls) {
      return ls.toString();
    }
    if (value instanceof byte[] bytes) {
      return new String(bytes, StandardCharsets.UTF_8);
    }
    if (value instanceof Number || value instanceof Boolean || value instanceof Character) {
      return value.toString();
    }
    if (value instanceof Date d) {
      return d.toInstant().toString();
    }
    return null;
  }
}
