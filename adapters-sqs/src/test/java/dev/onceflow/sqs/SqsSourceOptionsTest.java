package dev.onceflow.sqs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AnonymousCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;

class SqsSourceOptionsTest {

  private static SqsAsyncClient client;

  @BeforeAll
  static void client() {
    client =
        SqsAsyncClient.builder()
            .region(Region.US_EAST_1)
            .endpointOverride(URI.create("http://127.0.0.1:1"))
            .credentialsProvider(AnonymousCredentialsProvider.create())
            .build();
  }

  @AfterAll
  static void close() {
    client.close();
  }

  private static SqsSourceOptions.Builder valid() {
    return SqsSourceOptions.builder().client(client).queueUrl("http://h/000/orders");
  }

  @Test
  void defaultsAreTheDocumentedOnes() {
    SqsSourceOptions o = valid().build();

    assertThat(o.waitTime()).isEqualTo(Duration.ofSeconds(20));
    assertThat(o.visibilityTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(o.maxInFlight()).isEqualTo(SqsSourceOptions.DEFAULT_MAX_IN_FLIGHT);
    assertThat(o.deleteBatchSize()).isEqualTo(10);
    assertThat(o.heartbeatFraction()).isEqualTo(0.5);
    assertThat(o.messageAttributeNames()).containsExactly("All");
    assertThat(SqsSource.create(o).name()).isEqualTo("sqs:orders");
  }

  @Test
  void settersRejectBadValuesNamingTheOptionAndTheValue() {
    assertThatThrownBy(() -> valid().waitTime(Duration.ofSeconds(21)))
        .hasMessage("`waitTime` must be between PT0S and PT20S, but was PT21S");
    assertThatThrownBy(() -> valid().visibilityTimeout(Duration.ZERO))
        .hasMessage("`visibilityTimeout` must be between PT1S and PT12H, but was PT0S");
    assertThatThrownBy(() -> valid().maxInFlight(0))
        .hasMessage("`maxInFlight` must be positive, but was 0");
    assertThatThrownBy(() -> valid().deleteBatchSize(11))
        .hasMessage("`deleteBatchSize` must be between 1 and 10, but was 11");
    assertThatThrownBy(() -> valid().heartbeatFraction(1.0))
        .hasMessage("`heartbeatFraction` must be greater than 0 and lower than 1, but was 1.0");
    assertThatThrownBy(() -> valid().messageAttributeNames(List.of()))
        .hasMessageContaining("`messageAttributeNames` must not be empty");
  }

  @Test
  void buildRequiresAClientAndExactlyOneWayToNameTheQueue() {
    assertThatThrownBy(() -> SqsSourceOptions.builder().queueUrl("http://h/1/q").build())
        .hasMessage("`client` is required: the SqsAsyncClient to call SQS with");
    assertThatThrownBy(() -> SqsSourceOptions.builder().client(client).build())
        .hasMessageContaining("neither was");
    assertThatThrownBy(() -> valid().queueName("orders").build()).hasMessageContaining("both were");
  }

  @Test
  void mutateKeepsEveryValue() {
    SqsSourceOptions o = valid().maxInFlight(7).waitTime(Duration.ofSeconds(3)).build();

    SqsSourceOptions copy = o.mutate().build();

    assertThat(copy.maxInFlight()).isEqualTo(7);
    assertThat(copy.waitTime()).isEqualTo(Duration.ofSeconds(3));
    assertThat(copy.queueUrl()).isEqualTo(o.queueUrl());
  }

  @Test
  void idHeaderIsKeptByMutateAndValidated() {
    assertThat(valid().build().idHeader()).isNull();
    SqsSourceOptions o = valid().idHeader("X-Message-Id").build();
    assertThat(o.mutate().build().idHeader()).isEqualTo("X-Message-Id");
    assertThatThrownBy(() -> valid().idHeader(" "))
        .hasMessage("`idHeader` must not be blank, but was ' '");
  }

  @Test
  void publisherAndDeadLetterOptionsHaveDocumentedDefaultsAndValidate() {
    SqsPublisherOptions p = SqsPublisherOptions.builder().client(client).build();
    assertThat(p.sendAttempts()).isEqualTo(SqsPublisherOptions.DEFAULT_SEND_ATTEMPTS);
    assertThat(p.batchConcurrency()).isEqualTo(SqsPublisherOptions.DEFAULT_BATCH_CONCURRENCY);
    assertThat(p.mutate().sendAttempts(5).build().sendAttempts()).isEqualTo(5);
    assertThatThrownBy(() -> SqsPublisherOptions.builder().batchConcurrency(0))
        .hasMessage("`batchConcurrency` must be positive, but was 0");
    assertThatThrownBy(() -> SqsPublisherOptions.builder().build())
        .hasMessageContaining("`client` is required");

    SqsDeadLetterOptions d =
        SqsDeadLetterOptions.builder().client(client).queueName("orders-dlq").build();
    assertThat(d.createQueue()).isEqualTo(SqsDeadLetterOptions.DEFAULT_CREATE_QUEUE).isFalse();
    assertThat(d.sendAttempts()).isEqualTo(SqsDeadLetterOptions.DEFAULT_SEND_ATTEMPTS);
    assertThat(d.mutate().createQueue(true).build().createQueue()).isTrue();
    assertThat(d.mutate().build().queueName()).isEqualTo("orders-dlq");
    assertThatThrownBy(() -> SqsDeadLetterOptions.builder().client(client).build())
        .hasMessage("exactly one of `queueUrl` and `queueName` must be set, but neither was");
  }
}
