package dev.onceflow.sqs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.onceflow.core.BrokerKind;
import dev.onceflow.core.Delivery;
import dev.onceflow.core.Envelope;
import dev.onceflow.core.Origin;
import dev.onceflow.sqs.internal.SqsMessages;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;
import software.amazon.awssdk.services.sqs.model.ReceiveMessageRequest;

/** {@link SqsSource} against ElasticMQ: demand, envelope mapping, acks, nacks, heartbeat. */
@ExtendWith(ElasticMqExtension.class)
class SqsSourceIT {

  private static ElasticMq mq;

  @BeforeAll
  static void elasticMq() {
    mq = ElasticMqExtension.mq();
  }

  static Envelope message(String id, String payload) {
    return Envelope.builder()
        .messageId(id)
        .payload(payload.getBytes(StandardCharsets.UTF_8))
        .origin(new Origin(BrokerKind.SQS, "test", -1, -1, null, null, false, 0))
        .build();
  }

  private static void publish(String queueUrl, int count, String prefix) {
    List<Envelope> messages = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      messages.add(message(prefix + i, "payload-" + i));
    }
    SqsPublisher.create(mq.client()).publishAll(queueUrl, messages).block(Duration.ofSeconds(30));
  }

  private static SqsSourceOptions.Builder options(String queueUrl) {
    return SqsSourceOptions.builder()
        .client(mq.client())
        .queueUrl(queueUrl)
        .waitTime(Duration.ofSeconds(1));
  }

  @Test
  void receivesOnlyWhatDownstreamRequested() {
    String q = mq.createQueue("demand");
    publish(q, 30, "m");
    SqsSource source = SqsSource.create(options(q).build());

    StepVerifier.create(source.receive(), 0)
        .thenRequest(3)
        .expectNextCount(3)
        .then(() -> assertThat(mq.inFlight(q)).isEqualTo(3))
        .then(() -> assertThat(mq.visible(q)).isEqualTo(27))
        .thenRequest(12)
        .expectNextCount(12)
        .then(() -> assertThat(mq.inFlight(q)).isEqualTo(15))
        .thenCancel()
        .verify(Duration.ofSeconds(20));
  }

  @Test
  void maxInFlightBoundsUnsettledMessagesWhateverTheDemand() {
    String q = mq.createQueue("bound");
    publish(q, 40, "m");
    SqsSource source = SqsSource.create(options(q).maxInFlight(7).build());
    List<Delivery> got = new CopyOnWriteArrayList<>();

    Disposable d = source.receive().subscribe(got::add);
    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> got.size() == 7);
      // Unsettled deliveries hold the bound: no more is received.
      await()
          .during(Duration.ofMillis(1500))
          .atMost(Duration.ofSeconds(3))
          .until(() -> got.size() == 7);
      assertThat(mq.inFlight(q)).isEqualTo(7);
      // Settling frees room.
      Flux.fromIterable(List.copyOf(got)).flatMap(Delivery::ack).blockLast(Duration.ofSeconds(10));
      await().atMost(Duration.ofSeconds(10)).until(() -> got.size() == 14);
    } finally {
      d.dispose();
    }
  }

  @Test
  void envelopeCarriesTheConventionHeadersEvenBeyondTenAttributes() {
    String q = mq.createQueue("envelope");
    Instant ts = Instant.parse("2026-01-02T03:04:05Z");
    Envelope.Builder sent =
        Envelope.builder()
            .messageId("order-1")
            .entityKey("customer-7")
            .correlationId("corr-1")
            .causationId("cause-1")
            .producerId("producer-a")
            .sequence(42L)
            .version(3L)
            .timestamp(ts)
            .payload("{\"total\":10}".getBytes(StandardCharsets.UTF_8));
    for (int i = 0; i < 6; i++) {
      sent.header("x-extra-" + i, "v" + i);
    }
    sent.header("bad name with spaces", "kept");
    SqsPublisher.create(mq.client()).publish(q, sent.build()).block(Duration.ofSeconds(10));

    Delivery d = SqsSource.create(options(q).build()).receive().blockFirst(Duration.ofSeconds(10));

    Envelope e = d.envelope();
    assertThat(e.messageId()).isEqualTo("order-1");
    assertThat(e.entityKey()).isEqualTo("customer-7");
    assertThat(e.correlationId()).isEqualTo("corr-1");
    assertThat(e.causationId()).isEqualTo("cause-1");
    assertThat(e.producerId()).isEqualTo("producer-a");
    assertThat(e.sequence()).isEqualTo(42L);
    assertThat(e.version()).isEqualTo(3L);
    assertThat(e.timestamp()).isEqualTo(ts);
    assertThat(e.malformation()).isNull();
    assertThat(new String(e.payload(), StandardCharsets.UTF_8)).isEqualTo("{\"total\":10}");
    for (int i = 0; i < 6; i++) {
      assertThat(e.headers()).containsEntry("x-extra-" + i, "v" + i);
    }
    assertThat(e.headers()).containsEntry("bad name with spaces", "kept");
    assertThat(e.headers()).doesNotContainKey("onceflow-headers");
    Origin o = e.origin();
    assertThat(o.broker()).isEqualTo(BrokerKind.SQS);
    assertThat(o.destination()).isEqualTo(SqsMessages.queueNameOf(q));
    assertThat(o.partition()).isEqualTo(-1);
    assertThat(o.offset()).isEqualTo(-1);
    assertThat(o.brokerMessageId()).isNotBlank();
    assertThat(o.receipt()).isNotBlank();
    assertThat(o.attempt()).isEqualTo(1);
    assertThat(o.redelivered()).isFalse();
  }

  @Test
  void binaryPayloadRoundTripsThroughBase64() {
    String q = mq.createQueue("binary");
    byte[] payload = {0, 1, 2, (byte) 0xff, (byte) 0xfe, 0x7f};
    SqsPublisher.create(mq.client())
        .publish(q, Envelope.builder().messageId("bin").payload(payload).build())
        .block(Duration.ofSeconds(10));

    Delivery d = SqsSource.create(options(q).build()).receive().blockFirst(Duration.ofSeconds(10));

    assertThat(d.envelope().payload()).isEqualTo(payload);
    assertThat(d.envelope().headers()).doesNotContainKey("onceflow-body-encoding");
  }

  @Test
  void messageWithoutAttributesStillMapsWithItsSqsCoordinates() {
    String q = mq.createQueue("raw");
    mq.client().sendMessage(b -> b.queueUrl(q).messageBody("plain")).join();

    Delivery d = SqsSource.create(options(q).build()).receive().blockFirst(Duration.ofSeconds(10));

    assertThat(d.envelope().messageId()).isNull();
    assertThat(d.envelope().headers()).isEmpty();
    assertThat(d.envelope().origin().brokerMessageId()).isNotBlank();
    assertThat(new String(d.envelope().payload(), StandardCharsets.UTF_8)).isEqualTo("plain");
  }

  @Test
  void ackDeletesEveryMessageInBatches() {
    String q = mq.createQueue("ack");
    publish(q, 25, "m");
    SqsSource source = SqsSource.create(options(q).build());

    StepVerifier.create(source.receive().take(25).flatMap(d -> d.ack().thenReturn(d), 25))
        .expectNextCount(25)
        .verifyComplete();

    assertThat(mq.messagesLeft(q)).isZero();
  }

  @Test
  void nackWithZeroDelayRedeliversAtOnceAsASecondAttempt() {
    String q = mq.createQueue("nack");
    publish(q, 1, "m");
    SqsSource source =
        SqsSource.create(options(q).visibilityTimeout(Duration.ofSeconds(60)).build());

    StepVerifier.create(
            source.receive().concatMap(d -> d.nack(Duration.ZERO).thenReturn(d)).take(2))
        .assertNext(d -> assertThat(d.envelope().origin().attempt()).isEqualTo(1))
        .assertNext(
            d -> {
              assertThat(d.envelope().messageId()).isEqualTo("m0");
              assertThat(d.envelope().origin().attempt()).isEqualTo(2);
              assertThat(d.envelope().origin().redelivered()).isTrue();
            })
        .verifyComplete();
  }

  @Test
  void nackWithDelayHidesTheMessageForThatLong() {
    String q = mq.createQueue("delay");
    publish(q, 1, "m");
    SqsSource source =
        SqsSource.create(options(q).visibilityTimeout(Duration.ofSeconds(60)).build());
    Delivery first = source.receive().blockFirst(Duration.ofSeconds(10));
    long nackedAt = System.nanoTime();
    first.nack(Duration.ofSeconds(2)).block(Duration.ofSeconds(10));

    Delivery again = source.receive().blockFirst(Duration.ofSeconds(10));

    assertThat(Duration.ofNanos(System.nanoTime() - nackedAt))
        .isGreaterThan(Duration.ofMillis(1500));
    assertThat(again.envelope().origin().attempt()).isEqualTo(2);
    again.ack().block(Duration.ofSeconds(10));
    assertThat(mq.messagesLeft(q)).isZero();
  }

  @Test
  void settlementIsIdempotent() {
    String q = mq.createQueue("idem");
    publish(q, 1, "m");
    Delivery d = SqsSource.create(options(q).build()).receive().blockFirst(Duration.ofSeconds(10));

    d.ack().block(Duration.ofSeconds(10));
    d.ack().block(Duration.ofSeconds(10));
    d.nack(Duration.ZERO).block(Duration.ofSeconds(10));

    assertThat(d.settled()).isTrue();
    assertThat(mq.messagesLeft(q)).isZero();
  }

  @Test
  void heartbeatKeepsAnUnsettledMessageInvisibleLongPastItsVisibilityTimeout() {
    String q = mq.createQueue("heartbeat");
    publish(q, 1, "m");
    SqsSource source =
        SqsSource.create(
            options(q).visibilityTimeout(Duration.ofSeconds(2)).heartbeatFraction(0.3).build());
    List<Delivery> held = new CopyOnWriteArrayList<>();
    Disposable consumer = source.receive().subscribe(held::add);
    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> held.size() == 1);
      // A rival consumer polls for 5 s (2.5 visibility timeouts) and must see nothing.
      var rival =
          mq.client()
              .receiveMessage(
                  ReceiveMessageRequest.builder().queueUrl(q).waitTimeSeconds(5).build())
              .join();
      assertThat(rival.messages()).isEmpty();
      assertThat(held).hasSize(1);
      held.get(0).ack().block(Duration.ofSeconds(10));
      assertThat(mq.messagesLeft(q)).isZero();
    } finally {
      consumer.dispose();
    }
  }

  @Test
  void cancellingStopsTheHeartbeatAndUnsettledMessagesReappear() {
    String q = mq.createQueue("cancel");
    publish(q, 5, "m");
    SqsSourceOptions o = options(q).visibilityTimeout(Duration.ofSeconds(1)).build();
    List<Delivery> first =
        SqsSource.create(o).receive().take(5).collectList().block(Duration.ofSeconds(10));
    assertThat(first).hasSize(5);

    List<Delivery> second =
        SqsSource.create(o).receive().take(5).collectList().block(Duration.ofSeconds(15));

    Set<String> ids = new HashSet<>();
    second.forEach(d -> ids.add(d.envelope().messageId()));
    assertThat(ids).containsExactlyInAnyOrder("m0", "m1", "m2", "m3", "m4");
    assertThat(second).allSatisfy(d -> assertThat(d.envelope().origin().attempt()).isEqualTo(2));
    Flux.fromIterable(second).flatMap(Delivery::ack).blockLast(Duration.ofSeconds(10));
    assertThat(mq.messagesLeft(q)).isZero();
  }

  @Test
  void ackAfterTheSubscriptionEndedStillDeletes() {
    String q = mq.createQueue("late-ack");
    publish(q, 3, "m");
    List<Delivery> got =
        SqsSource.create(options(q).build())
            .receive()
            .take(3)
            .collectList()
            .block(Duration.ofSeconds(10));

    Flux.fromIterable(got).flatMap(Delivery::ack).blockLast(Duration.ofSeconds(10));

    assertThat(mq.messagesLeft(q)).isZero();
  }

  @Test
  void queueGivenByNameIsResolved() {
    String q = mq.createQueue("named");
    publish(q, 1, "m");
    SqsSource source =
        SqsSource.create(
            SqsSourceOptions.builder()
                .client(mq.client())
                .queueName(SqsMessages.queueNameOf(q))
                .waitTime(Duration.ofSeconds(1))
                .build());

    assertThat(source.name()).isEqualTo("sqs:" + SqsMessages.queueNameOf(q));
    Delivery d = source.receive().blockFirst(Duration.ofSeconds(10));
    assertThat(d.envelope().messageId()).isEqualTo("m0");
  }

  @Test
  void missingQueueEndsTheStreamWithAnError() {
    SqsSource source =
        SqsSource.create(
            SqsSourceOptions.builder().client(mq.client()).queueName("does-not-exist").build());

    StepVerifier.create(source.receive())
        .expectErrorSatisfies(
            e -> {
              assertThat(e).isInstanceOf(SqsOperationException.class);
              assertThat(e.getMessage()).contains("does-not-exist");
            })
        .verify(Duration.ofSeconds(10));
  }

  @Test
  void ackFailsWithTheQueueAndMessageNamedWhenTheDeleteCannotSucceed() {
    String q = mq.createQueue("bad-receipt");
    // A short poll, so that no receive is left waiting on the queue when it is deleted.
    SqsSource source =
        SqsSource.create(options(q).waitTime(Duration.ZERO).deleteAttempts(2).build());
    publish(q, 1, "m");
    Delivery d = source.receive().blockFirst(Duration.ofSeconds(10));
    mq.client().deleteQueue(b -> b.queueUrl(q)).join();

    StepVerifier.create(d.ack())
        .expectErrorSatisfies(
            e -> {
              assertThat(e).isInstanceOf(SqsOperationException.class);
              SqsOperationException x = (SqsOperationException) e;
              assertThat(x.operation()).isEqualTo("delete");
              assertThat(x.destination()).isEqualTo(SqsMessages.queueNameOf(q));
              assertThat(x.messageId()).isEqualTo(d.envelope().origin().brokerMessageId());
              assertThat(x.senderFault()).isTrue();
            })
        .verify(Duration.ofSeconds(20));
  }

  @Test
  void emptyQueueLongPollsWithoutEmitting() {
    String q = mq.createQueue("empty");
    StepVerifier.create(SqsSource.create(options(q).build()).receive())
        .expectSubscription()
        .expectNoEvent(Duration.ofMillis(1500))
        .thenCancel()
        .verify(Duration.ofSeconds(5));
    assertThat(mq.messagesLeft(q)).isZero();
  }
}
