package dev.onceflow.sqs.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.onceflow.sqs.SqsSourceOptions;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AnonymousCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;

class SqsMessagesTest {

  @Test
  void visibilityIsRoundedUpToWholeSecondsAndCappedAtTwelveHours() {
    assertThat(SqsMessages.visibilitySeconds(Duration.ZERO)).isZero();
    assertThat(SqsMessages.visibilitySeconds(Duration.ofMillis(1))).isEqualTo(1);
    assertThat(SqsMessages.visibilitySeconds(Duration.ofMillis(2001))).isEqualTo(3);
    assertThat(SqsMessages.visibilitySeconds(Duration.ofDays(3))).isEqualTo(43_200);
  }

  @Test
  void queueNamesAndFifoComeFromTheUrl() {
    assertThat(SqsMessages.queueNameOf("http://h:9324/000/orders/")).isEqualTo("orders");
    assertThat(SqsMessages.isFifo("http://h/000/orders.fifo")).isTrue();
    assertThat(SqsMessages.isFifo("orders")).isFalse();
  }

  @Test
  void theIdComesFromTheConfiguredAttributeThenOnceflowIdThenCeIdOrCeUnderscoreId() {
    Message cloud =
        Message.builder()
            .messageId("sqs-1")
            .body("x")
            .messageAttributes(Map.of("ce-id", string("evt-1")))
            .build();
    assertThat(SqsMessages.toEnvelope(cloud, "q", List.of(), null).messageId()).isEqualTo("evt-1");
    Message underscore =
        Message.builder().body("x").messageAttributes(Map.of("ce_id", string("evt-2"))).build();
    assertThat(SqsMessages.toEnvelope(underscore, "q", List.of(), null).messageId())
        .isEqualTo("evt-2");
    Message custom =
        Message.builder()
            .body("x")
            .messageAttributes(
                Map.of("X-Message-Id", string("custom-1"), "onceflow-id", string("m-1")))
            .build();
    assertThat(SqsMessages.toEnvelope(custom, "q", List.of(), "X-Message-Id").messageId())
        .isEqualTo("custom-1");
    assertThat(SqsMessages.toEnvelope(custom, "q", List.of(), null).messageId()).isEqualTo("m-1");
  }

  @Test
  void aRestrictedAttributeListStillFetchesTheIdAttributesSqsAccepts() {
    try (SqsAsyncClient client =
        SqsAsyncClient.builder()
            .region(Region.US_EAST_1)
            .endpointOverride(URI.create("http://127.0.0.1:1"))
            .credentialsProvider(AnonymousCredentialsProvider.create())
            .build()) {
      SqsSourceOptions o =
          SqsSourceOptions.builder()
              .client(client)
              .queueUrl("http://h/1/q")
              .messageAttributeNames(List.of("tenant"))
              .idHeader("X-Message-Id")
              .build();
      assertThat(SqsReceiver.messageAttributeNames(o))
          .startsWith("tenant", "onceflow-id")
          .contains("X-Message-Id", "ce_id", "ce-id", SqsCodec.PACKED_HEADERS)
          .doesNotContain("cloudEvents:id");
      SqsSourceOptions all = o.mutate().messageAttributeNames(List.of("All")).build();
      assertThat(SqsReceiver.messageAttributeNames(all)).containsExactly("All");
    }
  }

  private static MessageAttributeValue string(String v) {
    return MessageAttributeValue.builder().dataType("String").stringValue(v).build();
  }
}
