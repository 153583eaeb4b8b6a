package dev.onceflow.rabbitmq.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.impl.LongStringHelper;
import dev.onceflow.core.BrokerKind;
import dev.onceflow.core.Envelope;
import dev.onceflow.core.HeaderConvention;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.core.MessageProperties;

class AmqpMessagesTest {

  private static Message message(MessageProperties p) {
    return new Message("body".getBytes(StandardCharsets.UTF_8), p);
  }

  @Test
  void theConventionHeaderWinsOverTheMessageIdProperty() {
    MessageProperties p = new MessageProperties();
    p.setMessageId("from-property");
    p.setHeader(HeaderConvention.MESSAGE_ID, "from-header");
    Envelope e = AmqpMessages.toEnvelope(message(p), "q", "1@ctag", null);
    assertThat(e.messageId()).isEqualTo("from-header");
  }

  @Test
  void idOrderIsConfiguredHeaderThenOnceflowIdThenCloudEventsThenTheProperty() {
    MessageProperties p = new MessageProperties();
    p.setMessageId("random-per-send");
    p.setHeader("cloudEvents:id", "evt-1");
    assertThat(AmqpMessages.toEnvelope(message(p), "q", "1@c", null).messageId())
        .as("a CloudEvents id wins over a message-id property, which some clients make per send")
        .isEqualTo("evt-1");
    p.setHeader("X-Message-Id", LongStringHelper.asLongString("custom-1"));
    assertThat(AmqpMessages.toEnvelope(message(p), "q", "1@c", "X-Message-Id").messageId())
        .isEqualTo("custom-1");

    MessageProperties onlyProperty = new MessageProperties();
    onlyProperty.setMessageId("prop-1");
    assertThat(
            AmqpMessages.toEnvelope(message(onlyProperty), "q", "1@c", "X-Message-Id").messageId())
        .isEqualTo("prop-1");
  }

  @Test
  void messageIdFallsBackToTheHeader() {
    MessageProperties p = new MessageProperties();
    p.setHeader(HeaderConvention.MESSAGE_ID, "from-header");
    p.setHeader(HeaderConvention.CORRELATION_ID, "corr-header");
    Envelope e = AmqpMessages.toEnvelope(message(p), "q", "1@ctag", null);
    assertThat(e.messageId()).isEqualTo("from-header");
    assertThat(e.correlationId()).isEqualTo("corr-header");
  }

  @Test
  void propertiesAndConventionHeadersFillTheEnvelope() {
    MessageProperties p = new MessageProperties();
    p.setMessageId("m1");
    p.setCorrelationId("c1");
    p.setTimestamp(Date.from(Instant.parse("2026-01-02T03:04:05Z")));
    p.setRedelivered(false);
    p.setHeader(HeaderConvention.ENTITY_KEY, "order-7");
    p.setHeader(HeaderConvention.SEQUENCE, 12L);
    p.setHeader(HeaderConvention.VERSION, LongStringHelper.asLongString("3"));
    p.setHeader("custom", "v");
    p.setHeader("x-death", List.of(Map.of("count", 1L)));
    p.setHeader("spring_returned_message_correlation", "abc");
    Envelope e = AmqpMessages.toEnvelope(message(p), "orders", "5@ctag", null);
    assertThat(e.correlationId()).isEqualTo("c1");
    assertThat(e.timestamp()).isEqualTo(Instant.parse("2026-01-02T03:04:05Z"));
    assertThat(e.entityKey()).isEqualTo("order-7");
    assertThat(e.sequence()).isEqualTo(12L);
    assertThat(e.version()).isEqualTo(3L);
    assertThat(e.headers())
        .containsEntry("custom", "v")
        .doesNotContainKey("x-death")
        .doesNotContainKey("spring_returned_message_correlation");
    assertThat(e.origin().broker()).isEqualTo(BrokerKind.RABBITMQ);
    assertThat(e.origin().destination()).isEqualTo("orders");
    assertThat(e.origin().receipt()).isEqualTo("5@ctag");
    assertThat(e.origin().redelivered()).isFalse();
    assertThat(e.origin().attempt()).isEqualTo(1);
    assertThat(new String(e.payload(), StandardCharsets.UTF_8)).isEqualTo("body");
  }

  @Test
  void timestampHeaderIsPreferredForItsPrecision() {
    MessageProperties p = new MessageProperties();
    p.setTimestamp(Date.from(Instant.parse("2026-01-02T03:04:05Z")));
    p.setHeader(HeaderConvention.TIMESTAMP, "2026-01-02T03:04:05.678Z");
    Envelope e = AmqpMessages.toEnvelope(message(p), "q", "1@c", null);
    assertThat(e.timestamp()).isEqualTo(Instant.parse("2026-01-02T03:04:05.678Z"));
  }

  @Test
  void malformedConventionHeaderIsReportedNotThrown() {
    MessageProperties p = new MessageProperties();
    p.setMessageId("m");
    p.setHeader(HeaderConvention.SEQUENCE, "twelve");
    Envelope e = AmqpMessages.toEnvelope(message(p), "q", "1@c", null);
    assertThat(e.sequence()).isNull();
    assertThat(e.malformation()).contains("onceflow-sequence");
  }

  @Test
  void attemptComesFromDeliveryCountAndDelayedAttempts() {
    Map<String, Object> h = new HashMap<>();
    assertThat(AmqpMessages.attempt(h, false)).isEqualTo(1);
    assertThat(AmqpMessages.attempt(h, true)).isEqualTo(2); // classic queue: a lower bound
    h.put(AmqpMessages.X_DELIVERY_COUNT, 2L);
    assertThat(AmqpMessages.attempt(h, true)).isEqualTo(3);
    h.put(AmqpMessages.DELAYED_ATTEMPTS, "3");
    assertThat(AmqpMessages.attempt(h, true)).isEqualTo(6);
  }

  @Test
  void retryCopyKeepsIdentityAndHeadersAndSetsTheTtl() {
    MessageProperties p = new MessageProperties();
    p.setMessageId("m1");
    p.setCorrelationId("c1");
    p.setHeader("custom", "v");
    p.setHeader(AmqpMessages.X_DELIVERY_COUNT, 4L);
    Message copy = AmqpMessages.retryCopy(message(p), 5, 250);
    MessageProperties c = copy.getMessageProperties();
    assertThat(c.getMessageId()).isEqualTo("m1");
    assertThat(c.getCorrelationId()).isEqualTo("c1");
    assertThat(c.getExpiration()).isEqualTo("250");
    assertThat(c.getHeaders())
        .containsEntry("custom", "v")
        .containsEntry(AmqpMessages.DELAYED_ATTEMPTS, "5")
        .doesNotContainKey(AmqpMessages.X_DELIVERY_COUNT);
    assertThat(copy.getBody()).isEqualTo(message(p).getBody());
  }

  @Test
  void toMessageCarriesIdCorrelationTimestampAndHeaders() {
    Envelope e =
        Envelope.builder()
            .messageId("m9")
            .correlationId("c9")
            .timestamp(Instant.parse("2026-05-06T07:08:09.123Z"))
            .payload(new byte[] {1, 2})
            .origin(
                new dev.onceflow.core.Origin(
                    BrokerKind.RABBITMQ, "q", -1, -1, null, null, false, 0))
            .build();
    Message m = AmqpMessages.toMessage(e, HeaderConvention.toHeaders(e));
    MessageProperties p = m.getMessageProperties();
    assertThat(p.getMessageId()).isEqualTo("m9");
    assertThat(p.getCorrelationId()).isEqualTo("c9");
    assertThat(p.getTimestamp()).isEqualTo(Date.from(Instant.parse("2026-05-06T07:08:09.123Z")));
    assertThat(p.getHeaders())
        .containsEntry(HeaderConvention.MESSAGE_ID, "m9")
        .containsEntry(HeaderConvention.TIMESTAMP, "2026-05-06T07:08:09.123Z");
    assertThat(m.getBody()).containsExactly(1, 2);
  }
}
