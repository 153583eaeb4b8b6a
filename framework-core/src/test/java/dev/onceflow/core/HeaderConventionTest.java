package dev.onceflow.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HeaderConventionTest {

  @Test
  void theConfiguredIdHeaderComesFirst() {
    Map<String, String> h = new LinkedHashMap<>();
    h.put("X-Message-Id", "custom");
    h.put(HeaderConvention.MESSAGE_ID, "onceflow");
    h.put("ce_id", "cloud");
    assertThat(HeaderConvention.messageId(h, "X-Message-Id")).isEqualTo("custom");
    assertThat(HeaderConvention.messageId(h, null)).isEqualTo("onceflow");
    Envelope e = HeaderConvention.apply(Envelope.builder(), h, "X-Message-Id").build();
    assertThat(e.messageId()).isEqualTo("custom");
    assertThat(e.headers()).containsEntry("X-Message-Id", "custom");
  }

  @Test
  void aConfiguredHeaderThatIsAbsentOrBlankFallsBackToTheConvention() {
    assertThat(
            HeaderConvention.messageId(
                Map.of("X-Message-Id", " ", HeaderConvention.MESSAGE_ID, "m"), "X-Message-Id"))
        .isEqualTo("m");
    assertThat(HeaderConvention.messageId(Map.of("ce_id", "c"), "X-Message-Id")).isEqualTo("c");
  }

  @Test
  void cloudEventsBinaryModeIdsAreRecognisedOnEveryBroker() {
    for (String name : new String[] {"ce_id", "ce-id", "cloudEvents:id", "cloudEvents_id"}) {
      Envelope e = HeaderConvention.apply(Envelope.builder(), Map.of(name, "evt-1")).build();
      assertThat(e.messageId()).as(name).isEqualTo("evt-1");
    }
    assertThat(HeaderConvention.CLOUDEVENTS_ID_HEADERS)
        .containsExactly("ce_id", "ce-id", "cloudEvents:id", "cloudEvents_id");
  }

  @Test
  void headerNamesAreMatchedExactly() {
    assertThat(HeaderConvention.messageId(Map.of("CE_ID", "x", "Onceflow-Id", "y"), "x-message-id"))
        .isNull();
  }

  @Test
  void aMessageBuiltToBePublishedNeedsNoOrigin() {
    Envelope e =
        Envelope.builder()
            .messageId("order-1")
            .payload("{}".getBytes(StandardCharsets.UTF_8))
            .build();
    assertThat(e.origin()).isEqualTo(Origin.notReceived());
    assertThat(e.origin().received()).isFalse();
    assertThat(e.origin().broker()).isEqualTo(BrokerKind.NONE);
    assertThat(e.origin().describe()).isEqualTo("not-received");
    assertThat(e.toString()).contains("not-received");
    assertThat(Origin.kafka("t", 0, 1).received()).isTrue();
    assertThat(HeaderConvention.toHeaders(e)).containsEntry(HeaderConvention.MESSAGE_ID, "order-1");
  }
}
