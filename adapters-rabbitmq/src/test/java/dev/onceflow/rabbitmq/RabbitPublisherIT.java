package dev.onceflow.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.GetResponse;
import dev.onceflow.core.Envelope;
import dev.onceflow.core.HeaderConvention;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
        RabbitPublisher.create(
            RabbitPublisherOptions.builder()
                .uri(RabbitBroker.URI)
                .confirmTimeout(Duration.ofSeconds(10))
                .build());
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
            .build();

    StepVerifier.create(publisher.publish(q, e))
        .expectNext(new RabbitPublishResult("", q, "order-42"))
        .verifyComplete();

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
  void aMessageWithoutIdGetsOneWhenPublishIsCalledAndKeepsItOnRetry() throws Exception {
    String q = RabbitBroker.uniqueName("pub-noid");
    queues.add(q);
    broker.declareQueue(q, Map.of());
    reactor.core.publisher.Mono<RabbitPublishResult> once =
        publisher.publish(q, Envelope.builder().payload(new byte[] {1}).build());
    RabbitPublishResult first = once.block(Duration.ofSeconds(10));
    RabbitPublishResult again = once.block(Duration.ofSeconds(10));
    assertThat(first.messageId()).isNotBlank().isEqualTo(again.messageId());
    assertThat(broker.get(q).getProps().getMessageId()).isEqualTo(first.messageId());
    assertThat(broker.get(q).getProps().getHeaders().get(HeaderConvention.MESSAGE_ID))
        .hasToString(first.messageId());
  }

  @Test
  void theThreeArgumentFormTakesTheMessageIdOnEveryBroker() throws Exception {
    String q = RabbitBroker.uniqueName("pub-id");
    queues.add(q);
    broker.declareQueue(q, Map.of());
    StepVerifier.create(publisher.publish(q, "order-7", "x".getBytes(StandardCharsets.UTF_8)))
        .assertNext(r -> assertThat(r.messageId()).isEqualTo("order-7"))
        .verifyComplete();
    assertThat(broker.get(q).getProps().getMessageId()).isEqualTo("order-7");
  }

  @Test
  void unroutableMessageFails() {
    StepVerifier.create(
            publisher.publish(RabbitBroker.uniqueName("no-such-queue"), "id-1", new byte[] {1}))
        .expectErrorSatisfies(
            err -> {
              assertThat(err)
                  .isInstanceOf(RabbitOperationException.class)
                  .hasMessageContaining("unroutable")
                  .hasMessageContaining("id-1");
              RabbitOperationException r = (RabbitOperationException) err;
              assertThat(r.operation()).isEqualTo(RabbitOperationException.PUBLISH);
              assertThat(r.destination()).startsWith("onceflow-it-no-such-queue");
              assertThat(r.messageId()).isEqualTo("id-1");
            })
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

  @Test
  void closeLeavesNoNonDaemonThreadBehind() throws Exception {
    String q = RabbitBroker.uniqueName("pub-threads");
    queues.add(q);
    broker.declareQueue(q, Map.of());
    Set<Thread> before = liveNonDaemonThreads();
    RabbitPublisher p = RabbitPublisher.create(RabbitBroker.URI);
    // More concurrent publishes than cached channels: surplus channels are closed while their
    // confirms are outstanding, which spring-rabbit does on its deferred-close pool.
    reactor.core.publisher.Flux.range(0, 2000)
        .flatMap(i -> p.publish(q, "t-" + i, new byte[] {1}), 256)
        .then()
        .block(Duration.ofSeconds(60));
    p.close();
    org.awaitility.Awaitility.await()
        .pollInSameThread()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              Set<Thread> left = liveNonDaemonThreads();
              left.removeAll(before);
              assertThat(left)
                  .as("non-daemon threads started by the publisher and alive after close()")
                  .isEmpty();
            });
  }

  private static Set<Thread> liveNonDaemonThreads() {
    Set<Thread> out = new java.util.HashSet<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.isAlive() && !t.isDaemon()) {
        out.add(t);
      }
    }
    return out;
  }
}
