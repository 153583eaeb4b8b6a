package dev.onceflow.rabbitmq;

import static dev.onceflow.test.OperationFailures.assertOperationFailed;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.GetResponse;
import dev.onceflow.core.Envelope;
import dev.onceflow.deadletter.DeadLetter;
import dev.onceflow.deadletter.DeadLetterReason;
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

class RabbitDeadLetterIT {

  private RabbitBroker.Admin broker;
  private final List<String> queues = new ArrayList<>();

  @BeforeEach
  void connect() {
    RabbitBroker.requireRunning();
    broker = new RabbitBroker.Admin();
  }

  @AfterEach
  void cleanUp() throws Exception {
    queues.forEach(broker::deleteQueue);
    broker.close();
  }

  private String queue(String prefix, Map<String, Object> args) throws Exception {
    String q = RabbitBroker.uniqueName(prefix);
    queues.add(q);
    broker.declareQueue(q, args);
    return q;
  }

  /** Options of a sink that declares its dead-letter queue. */
  private static RabbitDeadLetterOptions.Builder declaring(String dlq) {
    return RabbitDeadLetterOptions.builder().uri(RabbitBroker.URI).queue(dlq).declareQueue(true);
  }

  private static DeadLetter deadLetter(Envelope e) {
    Instant now = Instant.parse("2026-02-03T04:05:06Z");
    return new DeadLetter(
        e,
        DeadLetterReason.HANDLER_FAILED,
        "java.lang.IllegalStateException",
        "boom",
        3,
        now,
        now,
        "orders",
        e.messageId());
  }

  @Test
  void publishedDeadLetterCarriesPayloadIdAndDeadLetterHeaders() throws Exception {
    String q = queue("src", Map.of());
    String dlq = RabbitBroker.uniqueName("dlq");
    queues.add(dlq);
    AMQP.BasicProperties props =
        new AMQP.BasicProperties.Builder()
            .messageId("poison-1")
            .headers(Map.of("tenant", "acme"))
            .build();
    broker.publish("", q, props, "bad".getBytes(StandardCharsets.UTF_8));

    RabbitSource source =
        RabbitSource.create(RabbitSourceOptions.builder().uri(RabbitBroker.URI).queue(q).build());
    try (RabbitDeadLetter sink = RabbitDeadLetter.create(declaring(dlq).build())) {
      StepVerifier.create(
              source
                  .receive()
                  .concatMap(
                      d -> sink.publish(deadLetter(d.envelope())).then(d.ack()).thenReturn(d))
                  .take(1))
          .expectNextCount(1)
          .verifyComplete();
    }

    GetResponse got = broker.get(dlq);
    assertThat(got).as("the dead letter is in the dead-letter queue").isNotNull();
    assertThat(new String(got.getBody(), StandardCharsets.UTF_8)).isEqualTo("bad");
    assertThat(got.getProps().getMessageId()).isEqualTo("poison-1");
    Map<String, Object> h = got.getProps().getHeaders();
    assertThat(h.get(DeadLetter.REASON)).hasToString("HANDLER_FAILED");
    assertThat(h.get(DeadLetter.EXCEPTION_CLASS)).hasToString("java.lang.IllegalStateException");
    assertThat(h.get(DeadLetter.EXCEPTION_MESSAGE)).hasToString("boom");
    assertThat(h.get(DeadLetter.ATTEMPTS)).hasToString("3");
    assertThat(h.get(DeadLetter.PIPELINE)).hasToString("orders");
    assertThat(h.get(DeadLetter.ORIGIN_DESTINATION)).hasToString(q);
    assertThat(h.get("onceflow-id")).hasToString("poison-1");
    assertThat(h.get("tenant")).hasToString("acme");
    await().atMost(Duration.ofSeconds(10)).until(() -> broker.consumers(q) == 0);
    assertThat(broker.ready(q)).isZero();
  }

  @Test
  void unroutableDeadLetterFailsInsteadOfVanishing() {
    try (RabbitDeadLetter sink =
        RabbitDeadLetter.create(
            RabbitDeadLetterOptions.builder()
                .uri(RabbitBroker.URI)
                .exchange("amq.direct", RabbitBroker.uniqueName("nobody-bound"))
                .build())) {
      StepVerifier.create(sink.ready()).as("the exchange exists").verifyComplete();
      StepVerifier.create(sink.publish(deadLetter(sampleEnvelope())))
          .expectErrorSatisfies(
              e -> {
                assertThat(e)
                    .isInstanceOf(RabbitOperationException.class)
                    .hasMessageContaining("unroutable");
                RabbitOperationException r = (RabbitOperationException) e;
                assertThat(r.operation()).isEqualTo(RabbitOperationException.PUBLISH);
                assertThat(r.destination()).isEqualTo("amq.direct");
                assertThat(r.exchange()).isEqualTo("amq.direct");
                assertThat(r.messageId()).isEqualTo("sample");
              })
          .verify(Duration.ofSeconds(20));
    }
  }

  @Test
  void deadLetterToAMissingExchangeFailsAtReadyNamingIt() {
    String missing = RabbitBroker.uniqueName("no-such-exchange");
    try (RabbitDeadLetter sink =
        RabbitDeadLetter.create(
            RabbitDeadLetterOptions.builder()
                .uri(RabbitBroker.URI)
                .exchange(missing, "x")
                .confirmTimeout(Duration.ofSeconds(5))
                .build())) {
      StepVerifier.create(sink.ready())
          .expectErrorSatisfies(
              e ->
                  assertOperationFailed(e, RabbitOperationException.CHECK_EXCHANGE, missing)
                      .isInstanceOf(RabbitOperationException.class))
          .verify(Duration.ofSeconds(20));
      StepVerifier.create(sink.publish(deadLetter(sampleEnvelope())))
          .expectError(RabbitOperationException.class)
          .verify(Duration.ofSeconds(20));
    }
  }

  @Test
  void viaQueueDeadLetterExchangeRejectsOnAckSoTheBrokerRoutesIt() throws Exception {
    String dlq = queue("dlx-target", Map.of());
    String q =
        queue("dlx-src", Map.of("x-dead-letter-exchange", "", "x-dead-letter-routing-key", dlq));
    broker.publish(q, List.of("p-1", "ok-1"));
    RabbitSource source =
        RabbitSource.create(RabbitSourceOptions.builder().uri(RabbitBroker.URI).queue(q).build());
    RabbitDeadLetter sink = RabbitDeadLetter.viaQueueDeadLetterExchange(source);

    StepVerifier.create(
            source
                .receive()
                .concatMap(
                    d ->
                        (d.envelope().messageId().startsWith("p-")
                                ? sink.publish(deadLetter(d.envelope())).then(d.ack())
                                : d.ack())
                            .thenReturn(d))
                .take(2))
        .expectNextCount(2)
        .verifyComplete();

    await().atMost(Duration.ofSeconds(10)).until(() -> broker.ready(dlq) == 1);
    GetResponse got = broker.get(dlq);
    assertThat(got.getProps().getMessageId()).isEqualTo("p-1");
    assertThat(got.getProps().getHeaders()).containsKey("x-death");
    await().atMost(Duration.ofSeconds(10)).until(() -> broker.consumers(q) == 0);
    assertThat(broker.ready(q)).isZero();
  }

  @Test
  void viaQueueDeadLetterExchangeRequeuesWhenTheOutcomeIsNotRecorded() throws Exception {
    String dlq = queue("dlx-target", Map.of());
    String q =
        queue("dlx-src", Map.of("x-dead-letter-exchange", "", "x-dead-letter-routing-key", dlq));
    broker.publish(q, List.of("p-2"));
    RabbitSource source =
        RabbitSource.create(RabbitSourceOptions.builder().uri(RabbitBroker.URI).queue(q).build());
    RabbitDeadLetter sink = RabbitDeadLetter.viaQueueDeadLetterExchange(source);

    // Dead letter accepted, but then the pipeline could not record the outcome: it nacks.
    StepVerifier.create(
            source
                .receive()
                .concatMap(
                    d ->
                        sink.publish(deadLetter(d.envelope()))
                            .then(d.nack(Duration.ZERO))
                            .thenReturn(d))
                .take(1))
        .expectNextCount(1)
        .verifyComplete();

    await().atMost(Duration.ofSeconds(10)).until(() -> broker.consumers(q) == 0);
    assertThat(broker.ready(q)).as("requeued, not dead-lettered").isEqualTo(1);
    assertThat(broker.ready(dlq)).isZero();
  }

  @Test
  void viaQueueDeadLetterExchangeRefusesAnUnknownDelivery() throws Exception {
    String q = queue("dlx-none", Map.of());
    RabbitSource source =
        RabbitSource.create(RabbitSourceOptions.builder().uri(RabbitBroker.URI).queue(q).build());
    StepVerifier.create(
            RabbitDeadLetter.viaQueueDeadLetterExchange(source)
                .publish(deadLetter(sampleEnvelope())))
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(RabbitOperationException.class)
                    .extracting(x -> ((RabbitOperationException) x).operation())
                    .isEqualTo(RabbitOperationException.DEAD_LETTER))
        .verify(Duration.ofSeconds(5));
    StepVerifier.create(RabbitDeadLetter.viaQueueDeadLetterExchange(source).ready())
        .verifyComplete();
  }

  @Test
  void readyFailsNamingAMissingQueueAndDeclaresItWhenTheOptionsSaySo() {
    String dlq = RabbitBroker.uniqueName("ready-dlq");
    queues.add(dlq);
    try (RabbitDeadLetter sink = RabbitDeadLetter.create(RabbitBroker.URI, dlq)) {
      StepVerifier.create(sink.ready())
          .expectErrorSatisfies(
              e ->
                  assertOperationFailed(e, RabbitOperationException.CHECK_QUEUE, dlq)
                      .isInstanceOf(RabbitOperationException.class)
                      .hasMessageContaining("does not exist")
                      .hasMessageContaining("declareQueue(true)"))
          .verify(Duration.ofSeconds(20));
    }
    assertThat(broker.admin().getQueueProperties(dlq)).as("not declared").isNull();

    try (RabbitDeadLetter sink =
        RabbitDeadLetter.create(declaring(dlq).queueArgument("x-queue-type", "quorum").build())) {
      StepVerifier.create(sink.ready()).verifyComplete();
      assertThat(broker.admin().getQueueProperties(dlq)).as("declared").isNotNull();
      StepVerifier.create(sink.publish(deadLetter(sampleEnvelope()))).verifyComplete();
    }
    assertThat(broker.ready(dlq)).isEqualTo(1);
    try (RabbitDeadLetter sink = RabbitDeadLetter.create(RabbitBroker.URI, dlq)) {
      StepVerifier.create(sink.ready()).as("now it exists").verifyComplete();
    }
  }

  private static Envelope sampleEnvelope() {
    return Envelope.builder()
        .messageId("sample")
        .payload(new byte[] {1})
        .origin(
            new dev.onceflow.core.Origin(
                dev.onceflow.core.BrokerKind.RABBITMQ, "somewhere", -1, -1, null, "1@x", false, 1))
        .build();
  }
}
