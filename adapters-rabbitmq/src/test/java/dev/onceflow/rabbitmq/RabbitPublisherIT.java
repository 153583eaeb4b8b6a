package dev.onceflow.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.GetResponse;
import dev.onceflow.core.BrokerKind;
import dev.onceflow.core.Envelope;
import dev.onceflow.core.HeaderConvention;
import dev.onceflow.core.Origin;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;

class RabbitPublisherIT {

  private RabbitBroker.Admin broker;
  private RabbitPublisher publisher;
  private final List<String> queues = new ArrayList<>();

  @BeforeEach
  void connect() {
    RabbitBroker.requireRunning();
    broker = new RabbitBroker.Admin();
    publisher =
        RabbitPublisher.builder()
            .uri(RabbitBroker.URI)
            .confirmTimeout(Duration.ofSeconds(10))
            .build();
  }

  @AfterEach
  void cleanUp() throws Exception {
    publisher.close();
    queues.forEach(broker::deleteQueue);
    broker.close();
  }

  @Test
  void publishedMessageCarriesTheIdAsPropertyAndHeader() throws Exception {
    String q = RabbitBroker.uniqueName("pub");
    queues.add(q);
    broker.declareQueue(q, Map.of());
    Envelope e =
        Envelope.builder()
            .messageId("order-42")
            .entityKey("order")
            .correlationId("c-42")
            .timestamp(Instant.parse("2026-01-01T00:00:01.500Z"))
            .payload("hi".getBytes(StandardCharsets.UTF_8))
            .origin(new Origin(BrokerKind.IN_MEMORY, "x", -1, -1, null, null, false, 0))
            .build();

    StepVerifier.create(publisher.publish(q, e)).verifyComplete();

    GetResponse got = broker.get(q);
    assertThat(got).isNotNull();
    assertThat(got.getProps().getMessageId()).isEqualTo("order-42");
    assertThat(got.getProps().getCorrelationId()).isEqualTo("c-42");
    assertThat(got.getProps().getDeliveryMode()).isEqualTo(2);
    assertThat(got.getProps().getTimestamp().toInstant())
        .isEqualTo(Instant.parse("2026-01-01T00:00:01Z"));
    assertThat(got.getProps().getHeaders().get(HeaderConvention.MESSAGE_ID))
        .hasToString("order-42");
    assertThat(got.getProps().getHeaders().get(HeaderConvention.ENTITY_KEY)).hasToString("order");
    assertThat(got.getProps().getHeaders().get(HeaderConvention.TIMESTAMP))
        .hasToString("2026-01-01T00:00:01.500Z");
    assertThat(new String(got.getBody(), StandardCharsets.UTF_8)).isEqualTo("hi");
  }

  @Test
  void messageWithoutIdIsRefused() {
    Envelope e =
        Envelope.builder()
            .payload(new byte[] {1})
            .origin(new Origin(BrokerKind.IN_MEMORY, "x", -1, -1, null, null, false, 0))
            .build();
    StepVerifier.create(publisher.publish("anything", e))
        .expectErrorSatisfies(
            err ->
                assertThat(err)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("no message id"))
        .verify(Duration.ofSeconds(5));
  }

  @Test
  void unroutableMessageFails() {
    StepVerifier.create(
            publisher.publish(RabbitBroker.uniqueName("no-such-queue"), "id-1", new byte[] {1}))
        .expectErrorSatisfies(
            err ->
                assertThat(err)
                    .isInstanceOf(RabbitPublishException.class)
                    .hasMessageContaining("unroutable"))
        .verify(Duration.ofSeconds(20));
  }

  @Test
  void manyConcurrentPublishesAreAllConfirmed() throws Exception {
    String q = RabbitBroker.uniqueName("pub-many");
    queues.add(q);
    broker.declareQueue(q, Map.of());
    StepVerifier.create(
            reactor.core.publisher.Flux.range(0, 1000)
                .flatMap(i -> publisher.publish(q, "m-" + i, new byte[] {i.byteValue()}), 64)
                .then())
        .verifyComplete();
    assertThat(broker.ready(q)).isEqualTo(1000);
  }
}
